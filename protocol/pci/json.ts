/**
 * The JSON form of an envelope, for HTTP and the CLI: the EnvelopeBody fields flat,
 * plus the signature; byte fields as standard padded base64, numbers as JSON numbers,
 * agentType by name. Doubles survive JSON exactly (JSON.stringify writes the shortest
 * text that parses back to the same double), so `signedEnvelopeFromJson` rebuilds the
 * exact wire bytes that were signed and a posted JSON envelope verifies.
 *
 * The parsers check what JSON can get wrong (types, base64, integers) and throw
 * EnvelopeFieldError naming the field; whether the values are acceptable (ranges,
 * lengths) is the verifier's call (R005), or signEnvelope's.
 */
import { joinEnvelope } from '../codec/envelope-wire.ts';
import {
  AGENT_TYPE_NAMES,
  type AgentTypeName,
  type DecodedEnvelope,
  EnvelopeFieldError,
  encodeBody,
  TTL_SECONDS_MAX,
  type UnsignedEnvelopeFields,
} from './fields.ts';

export interface EnvelopeJson {
  agentType: AgentTypeName;
  payload: { contentType: string /** base64 */; data: string };
  /** base64 of the raw 32-byte Ed25519 public key */
  senderPublicKey: string;
  timestampMs: number;
  ttlSeconds: number;
  ihsanScore: number;
  snrScore: number;
  /** base64 */
  nonce: string;
  /** base64 of the 64-byte signature */
  signature: string;
}

/** Parsed JSON: the fields to sign, plus the key and signature when the JSON carries them. */
export interface ParsedEnvelopeJson {
  fields: UnsignedEnvelopeFields;
  senderPublicKey?: Uint8Array;
  signature?: Uint8Array;
}

const BASE64 = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';

/**
 * JSON Schema (draft-07, standard keywords only) of the signed JSON form, for an API
 * that validates bodies before they reach the parser. It checks the same shape as
 * signedEnvelopeFromJson; value ranges stay with the verifier.
 */
export const SIGNED_ENVELOPE_JSON_SCHEMA = Object.freeze({
  type: 'object',
  additionalProperties: false,
  required: [
    'agentType',
    'payload',
    'senderPublicKey',
    'timestampMs',
    'ttlSeconds',
    'ihsanScore',
    'snrScore',
    'nonce',
    'signature',
  ],
  properties: {
    agentType: { type: 'string', enum: [...AGENT_TYPE_NAMES] },
    payload: {
      type: 'object',
      additionalProperties: false,
      required: ['contentType', 'data'],
      properties: { contentType: { type: 'string' }, data: { type: 'string', pattern: BASE64 } },
    },
    senderPublicKey: { type: 'string', pattern: BASE64 },
    timestampMs: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    ttlSeconds: { type: 'integer', minimum: 0, maximum: TTL_SECONDS_MAX },
    ihsanScore: { type: 'number' },
    snrScore: { type: 'number' },
    nonce: { type: 'string', pattern: BASE64 },
    signature: { type: 'string', pattern: BASE64 },
  },
});

const TOP_KEYS = new Set(Object.keys(SIGNED_ENVELOPE_JSON_SCHEMA.properties));
const PAYLOAD_KEYS = new Set(['contentType', 'data']);

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

function fromBase64(field: string, v: unknown): Uint8Array {
  if (typeof v !== 'string') throw new EnvelopeFieldError(field, 'must be a base64 string');
  const b = Buffer.from(v, 'base64');
  // Buffer's decoder skips characters it does not know; only a round trip is strict.
  if (b.toString('base64') !== v) {
    throw new EnvelopeFieldError(field, 'is not canonical base64 (standard alphabet, with = padding)');
  }
  return new Uint8Array(b);
}

function integer(field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new EnvelopeFieldError(field, `must be an integer from 0 to ${max}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

function number(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EnvelopeFieldError(field, 'must be a number');
  return v;
}

function object(field: string, v: unknown, keys: Set<string>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EnvelopeFieldError(field, 'must be an object');
  for (const k of Object.keys(v)) {
    if (!keys.has(k)) throw new EnvelopeFieldError(field === 'envelope' ? k : `${field}.${k}`, 'unknown field');
  }
  return v as Record<string, unknown>;
}

/** The JSON form of a decoded (or just signed) envelope. */
export function envelopeToJson(e: DecodedEnvelope): EnvelopeJson {
  return {
    agentType: e.agentType,
    payload: { contentType: e.payload.contentType, data: toBase64(e.payload.data) },
    senderPublicKey: toBase64(e.senderPublicKey),
    timestampMs: e.timestampMs,
    ttlSeconds: e.ttlSeconds,
    ihsanScore: e.ihsanScore,
    snrScore: e.snrScore,
    nonce: toBase64(e.nonce),
    signature: toBase64(e.signature),
  };
}

/**
 * Parses the JSON form, signed or not (senderPublicKey and signature are optional:
 * a file to be signed has neither). Throws EnvelopeFieldError naming the field.
 */
export function envelopeFromJson(obj: unknown): ParsedEnvelopeJson {
  const o = object('envelope', obj, TOP_KEYS);
  const agentType = o['agentType'];
  if (typeof agentType !== 'string' || !AGENT_TYPE_NAMES.includes(agentType as AgentTypeName)) {
    throw new EnvelopeFieldError('agentType', `must be one of ${AGENT_TYPE_NAMES.join(', ')}`);
  }
  const p = object('payload', o['payload'], PAYLOAD_KEYS);
  if (typeof p['contentType'] !== 'string') throw new EnvelopeFieldError('payload.contentType', 'must be a string');
  const parsed: ParsedEnvelopeJson = {
    fields: {
      agentType: agentType as AgentTypeName,
      payload: { contentType: p['contentType'], data: fromBase64('payload.data', p['data']) },
      timestampMs: integer('timestampMs', o['timestampMs'], Number.MAX_SAFE_INTEGER),
      ttlSeconds: integer('ttlSeconds', o['ttlSeconds'], TTL_SECONDS_MAX),
      ihsanScore: number('ihsanScore', o['ihsanScore']),
      snrScore: number('snrScore', o['snrScore']),
      nonce: fromBase64('nonce', o['nonce']),
    },
  };
  if (o['senderPublicKey'] !== undefined) parsed.senderPublicKey = fromBase64('senderPublicKey', o['senderPublicKey']);
  if (o['signature'] !== undefined) parsed.signature = fromBase64('signature', o['signature']);
  return parsed;
}

/**
 * The exact wire bytes of a signed envelope given in JSON form, to be verified like
 * any received bytes. Throws EnvelopeFieldError for JSON that cannot be an envelope
 * (wrong types, bad base64, no signature); everything else is the verifier's to judge.
 */
export function signedEnvelopeFromJson(obj: unknown): Uint8Array {
  const { fields, senderPublicKey, signature } = envelopeFromJson(obj);
  if (senderPublicKey === undefined) throw new EnvelopeFieldError('senderPublicKey', 'missing');
  if (signature === undefined) throw new EnvelopeFieldError('signature', 'missing');
  return joinEnvelope(encodeBody({ ...fields, senderPublicKey }), signature);
}
