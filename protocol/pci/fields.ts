/**
 * The fields of a PCI envelope, their rules, and the canonical EnvelopeBody encoding.
 *
 * Canonical bytes are produced in one place, `encodeBody`, from validated plain
 * fields: protobufjs writes fields in number order and skips proto3 defaults, and
 * because the object handed to it is built here, nothing else (unknown fields a
 * decoder kept, a zero written explicitly, a duplicate) can reach the output. A
 * receiver decodes, validates and calls `encodeBody` again; bytes that differ are not
 * canonical and are refused (see protocol/README.md).
 */
import { AGENT_TYPE_NUMBERS, EnvelopeBodyType, protobuf } from '../codec/schema.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/ed25519.ts';

export type AgentTypeName = 'USER' | 'MODEL' | 'SOVEREIGN';
export const AGENT_TYPE_NAMES: readonly AgentTypeName[] = ['USER', 'MODEL', 'SOVEREIGN'];

export interface EnvelopePayload {
  contentType: string;
  data: Uint8Array;
}

/** The signed fields (EnvelopeBody). */
export interface EnvelopeFields {
  agentType: AgentTypeName;
  payload: EnvelopePayload;
  /** Raw 32-byte Ed25519 public key of the signer. */
  senderPublicKey: Uint8Array;
  /** Unix time in ms, an integer from 1 to Number.MAX_SAFE_INTEGER. */
  timestampMs: number;
  /** Lifetime after timestampMs, an integer from 1 to 2^32 - 1 (and at most the policy's maxTtlSeconds). */
  ttlSeconds: number;
  /** In [0, 1]; not NaN, not -0. */
  ihsanScore: number;
  snrScore: number;
  /** 16 to 64 bytes chosen by the sender (random), so identical submissions get different ids. */
  nonce: Uint8Array;
}

/** What a sender fills in; signing adds the public key of its seed. */
export type UnsignedEnvelopeFields = Omit<EnvelopeFields, 'senderPublicKey'>;

/**
 * A decoded, well-formed envelope. Its byte fields may be views into the bytes it was
 * decoded from: treat them as read-only, and copy what you keep if that buffer is reused.
 */
export interface DecodedEnvelope extends EnvelopeFields {
  /** 64-byte Ed25519 signature over domainDigest('bizra/pci/v1', body bytes). */
  signature: Uint8Array;
}

export const CONTENT_TYPE_MAX_LENGTH = 255;
export const NONCE_MIN_BYTES = 16;
export const NONCE_MAX_BYTES = 64;
export const TTL_SECONDS_MAX = 0xffff_ffff;

/** A field that breaks the rules, named as in the JSON form. */
export class EnvelopeFieldError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'EnvelopeFieldError';
    this.field = field;
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

function checkScore(field: string, x: unknown): string | null {
  if (typeof x !== 'number' || Number.isNaN(x)) return `${field}: must be a number, got ${String(x)}`;
  if (x < 0 || x > 1) return `${field}: ${x} is outside [0, 1]`;
  // -0 would survive the wire (protobuf writes it: its bits are not zero) but not JSON.
  if (Object.is(x, -0)) return `${field}: -0 is not allowed (write 0)`;
  return null;
}

function checkBytes(field: string, b: unknown, min: number, max: number): string | null {
  if (!(b instanceof Uint8Array)) return `${field}: must be bytes`;
  if (b.length < min || b.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    return `${field}: must be ${want} bytes, got ${b.length}`;
  }
  return null;
}

/**
 * The first rule `f` breaks, as "field: what is wrong", or null. Covers every rule
 * that does not depend on the time or the policy; the same check guards signing and
 * verification, so a signer cannot produce an envelope verifiers call malformed.
 */
export function checkFields(f: EnvelopeFields): string | null {
  if (!AGENT_TYPE_NAMES.includes(f.agentType)) {
    return `agentType: must be one of ${AGENT_TYPE_NAMES.join(', ')}, got ${String(f.agentType)}`;
  }
  if (typeof f.payload !== 'object' || f.payload === null) return 'payload: missing';
  const ct = f.payload.contentType;
  if (typeof ct !== 'string' || ct.length === 0 || ct.length > CONTENT_TYPE_MAX_LENGTH || !PRINTABLE_ASCII.test(ct)) {
    return `payload.contentType: must be 1 to ${CONTENT_TYPE_MAX_LENGTH} printable ASCII characters`;
  }
  if (!(f.payload.data instanceof Uint8Array)) return 'payload.data: must be bytes';
  return (
    checkBytes('senderPublicKey', f.senderPublicKey, ED25519_PUBLIC_KEY_BYTES, ED25519_PUBLIC_KEY_BYTES) ??
    (Number.isSafeInteger(f.timestampMs) && f.timestampMs >= 1
      ? null
      : `timestampMs: must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${String(f.timestampMs)}`) ??
    (Number.isInteger(f.ttlSeconds) && f.ttlSeconds >= 1 && f.ttlSeconds <= TTL_SECONDS_MAX
      ? null
      : `ttlSeconds: must be an integer from 1 to ${TTL_SECONDS_MAX}, got ${String(f.ttlSeconds)}`) ??
    checkScore('ihsanScore', f.ihsanScore) ??
    checkScore('snrScore', f.snrScore) ??
    checkBytes('nonce', f.nonce, NONCE_MIN_BYTES, NONCE_MAX_BYTES)
  );
}

/** Throws EnvelopeFieldError naming the first broken rule. */
export function assertFields(f: EnvelopeFields): void {
  const problem = checkFields(f);
  if (problem !== null) {
    const colon = problem.indexOf(':');
    throw new EnvelopeFieldError(problem.slice(0, colon), problem.slice(colon + 2));
  }
}

export function checkSignatureShape(signature: unknown): string | null {
  return checkBytes('signature', signature, ED25519_SIGNATURE_BYTES, ED25519_SIGNATURE_BYTES);
}

/**
 * The canonical EnvelopeBody bytes of valid fields (check them first: this does not).
 * Defaults are left out of the object, so protobufjs omits them as proto3 requires.
 */
export function encodeBody(f: EnvelopeFields): Uint8Array {
  const payload: Record<string, unknown> = { contentType: f.payload.contentType };
  if (f.payload.data.length > 0) payload['data'] = f.payload.data;
  const m: Record<string, unknown> = {
    agentType: AGENT_TYPE_NUMBERS[f.agentType],
    payload,
    senderPublicKey: f.senderPublicKey,
    timestampMs: f.timestampMs,
    ttlSeconds: f.ttlSeconds,
    nonce: f.nonce,
  };
  // Scores are the only fields whose valid range includes their default (0).
  if (f.ihsanScore !== 0) m['ihsanScore'] = f.ihsanScore;
  if (f.snrScore !== 0) m['snrScore'] = f.snrScore;
  return EnvelopeBodyType.encode(m).finish();
}

const EMPTY = new Uint8Array(0);
const AGENT_TYPE_BY_NUMBER = new Map<number, AgentTypeName>(AGENT_TYPE_NAMES.map((n) => [AGENT_TYPE_NUMBERS[n]!, n]));

type Decoded = Record<string, unknown>;

/**
 * A field the decoder set itself. protobufjs puts proto3 defaults on the prototype,
 * and some of them are not what a valid value looks like (bytes default to a plain
 * `[]`), so absent fields are mapped to this module's defaults instead.
 */
function own<T>(m: Decoded, key: string, absent: T): T {
  return Object.hasOwn(m, key) ? (m[key] as T) : absent;
}

/** uint64 as protobufjs returns it: a number, or a Long when the long package is present. */
function uint64ToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  return protobuf.util.LongBits.from(v as never).toNumber(true);
}

/**
 * Decodes EnvelopeBody bytes into fields without judging them (check them with
 * checkFields): an unknown agent type becomes its number as a string, absent values
 * their defaults, a missing payload undefined. Throws on bytes that are not a
 * protobuf message at all. Unknown fields are dropped here, which is why a verifier
 * must compare `encodeBody` of the result with the bytes it decoded.
 */
export function decodeBody(bytes: Uint8Array): EnvelopeFields {
  const m = EnvelopeBodyType.decode(bytes) as unknown as Decoded;
  const p = own<Decoded | undefined>(m, 'payload', undefined);
  const agentNumber = own(m, 'agentType', 0);
  return {
    agentType: AGENT_TYPE_BY_NUMBER.get(agentNumber) ?? (String(agentNumber) as AgentTypeName),
    payload: (p === undefined
      ? undefined
      : { contentType: own(p, 'contentType', ''), data: own(p, 'data', EMPTY) }) as EnvelopePayload,
    senderPublicKey: own(m, 'senderPublicKey', EMPTY),
    timestampMs: uint64ToNumber(own<unknown>(m, 'timestampMs', 0)),
    ttlSeconds: own(m, 'ttlSeconds', 0),
    ihsanScore: own(m, 'ihsanScore', 0),
    snrScore: own(m, 'snrScore', 0),
    nonce: own(m, 'nonce', EMPTY),
  };
}
