/**
 * The fields of a PCI envelope, their rules, and the canonical EnvelopeBody encoding.
 *
 * Canonical bytes are produced in one place, `encodeBody`, from validated plain
 * fields: protobufjs writes fields in number order and skips proto3 defaults, and
 * because the object handed to it is built here, nothing else (unknown fields a
 * decoder kept, a zero written explicitly, a duplicate) can reach the output.
 *
 * A receiver reads them back with `readCanonicalBody`, a hand-written single pass
 * that accepts exactly the bytes `encodeBody` writes for valid fields and nothing
 * else, so it needs no re-encoding (see protocol/README.md). `decodeBody` (protobufjs,
 * lenient) remains for explaining what is wrong with bytes that reader refused.
 */
import { type Cursor, minimalVarint } from '../codec/canonical-varint.ts';
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
 * protobuf message at all. Unknown fields are dropped here, so bytes are canonical
 * only if `encodeBody` of the result gives them back: the slow, lenient path, used to
 * explain a refusal of `readCanonicalBody` and (in tests) as its oracle.
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

// ---------------------------------------------------------------------------
// The strict reader
// ---------------------------------------------------------------------------

/** Tag bytes (field number << 3 | wire type); every EnvelopeBody tag fits in one byte. */
const TAG_AGENT_TYPE = 0x08; // 1, varint
const TAG_PAYLOAD = 0x12; // 2, length-delimited
const TAG_SENDER_PUBLIC_KEY = 0x1a; // 3, length-delimited
const TAG_TIMESTAMP_MS = 0x20; // 4, varint
const TAG_TTL_SECONDS = 0x28; // 5, varint
const TAG_IHSAN_SCORE = 0x31; // 6, fixed64
const TAG_SNR_SCORE = 0x39; // 7, fixed64
const TAG_NONCE = 0x42; // 8, length-delimited
const TAG_CONTENT_TYPE = 0x0a; // Payload 1, length-delimited
const TAG_DATA = 0x12; // Payload 2, length-delimited

/** Agent type by its one-byte wire number (the canonical encoding of 1 to 3). */
const AGENT_TYPE_BY_BYTE: readonly (AgentTypeName | undefined)[] = Array.from({ length: 0x80 }, (_, i) =>
  AGENT_TYPE_BY_NUMBER.get(i),
);

/** Scratch for reading doubles: IEEE 754 bits are little-endian on the wire. */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([-0]).buffer)[7] === 0x80;

/** A score c.at `c.at`: present only when not the default, so in (0, 1]; -1 otherwise (NaN, -0, 0 included). */
function presentScore(c: Cursor, b: Uint8Array, end: number): number {
  if (end - c.at < 8) return -1;
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[i] = b[c.at + i]!;
  else for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = b[c.at + i]!;
  c.at += 8;
  const x = F64[0]!;
  return x > 0 && x <= 1 ? x : -1;
}

/** Content type bytes as a string: 1 to 255 printable ASCII characters, else null. */
function printableAscii(b: Uint8Array, start: number, end: number): string | null {
  if (end <= start || end - start > CONTENT_TYPE_MAX_LENGTH) return null;
  for (let p = start; p < end; p++) {
    const x = b[p]!;
    if (x < 0x20 || x > 0x7e) return null;
  }
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
}

/**
 * The fields of `bytes` if and only if they are the canonical encoding of valid fields
 * (`checkFields` passes and `encodeBody` of them gives `bytes` back); null for anything
 * else. One pass, no protobuf decoder and no re-encoding: the canonical form leaves no
 * choice, so the reader expects each byte where `encodeBody` puts it:
 *
 *   08 <agent 1-3>  12 <len> [0a <len 1-255> <printable ASCII>] [12 <len >= 1> <data>]
 *   1a 20 <32-byte key>  20 <timestamp 1..2^53-1>  28 <ttl 1..2^32-1>
 *   [31 <double in (0, 1]>]  [39 <double in (0, 1]>]  42 <len 16-64> <nonce>
 *
 * with every varint minimal and nothing after the nonce. Fields are therefore present
 * c.at most once, in field-number order, with their wire types, defaults absent (the
 * scores are the only valid fields that can be, and 0 is then omitted; -0 and NaN are
 * refused) and no unknown fields. Byte fields are views into `bytes`. Never throws.
 * Does not apply the policy's maxTtlSeconds.
 */
export function readCanonicalBody(bytes: Uint8Array): EnvelopeFields | null {
  const b = bytes;
  const end = b.length;
  const c: Cursor = { at: 0 };
  // 1: agent_type, one byte (1 to 3 need no more; 0 would be omitted, and is invalid).
  if (end < 2 || b[0] !== TAG_AGENT_TYPE) return null;
  const agentType = AGENT_TYPE_BY_BYTE[b[1]!];
  if (agentType === undefined) return null;
  // 2: payload, always present (a message field), itself canonical.
  if (b[2] !== TAG_PAYLOAD) return null;
  c.at = 3;
  const payloadLength = minimalVarint(c, b, end, 5);
  if (payloadLength < 0 || payloadLength > end - c.at) return null;
  const payloadEnd = c.at + payloadLength;
  if (b[c.at] !== TAG_CONTENT_TYPE || c.at >= payloadEnd) return null;
  c.at++;
  const contentTypeLength = minimalVarint(c, b, payloadEnd, 2);
  if (contentTypeLength < 0 || contentTypeLength > payloadEnd - c.at) return null;
  const contentType = printableAscii(b, c.at, c.at + contentTypeLength);
  if (contentType === null) return null;
  c.at += contentTypeLength;
  let data: Uint8Array = EMPTY;
  if (c.at < payloadEnd) {
    if (b[c.at] !== TAG_DATA) return null;
    c.at++;
    const dataLength = minimalVarint(c, b, payloadEnd, 5);
    // Empty data is the default, so omitted; the data must end the payload exactly.
    if (dataLength < 1 || dataLength !== payloadEnd - c.at) return null;
    data = b.subarray(c.at, payloadEnd);
    c.at = payloadEnd;
  }
  // 3: sender_public_key, 32 bytes.
  if (end - c.at < 2 + ED25519_PUBLIC_KEY_BYTES) return null;
  if (b[c.at] !== TAG_SENDER_PUBLIC_KEY || b[c.at + 1] !== ED25519_PUBLIC_KEY_BYTES) return null;
  const senderPublicKey = b.subarray(c.at + 2, c.at + 2 + ED25519_PUBLIC_KEY_BYTES);
  c.at += 2 + ED25519_PUBLIC_KEY_BYTES;
  // 4: timestamp_ms, 1 to 2^53 - 1 (c.at most 8 varint bytes).
  if (b[c.at] !== TAG_TIMESTAMP_MS) return null;
  c.at++;
  const timestampMs = minimalVarint(c, b, end, 8);
  if (timestampMs < 1 || timestampMs > Number.MAX_SAFE_INTEGER) return null;
  // 5: ttl_seconds, 1 to 2^32 - 1.
  if (b[c.at] !== TAG_TTL_SECONDS) return null;
  c.at++;
  const ttlSeconds = minimalVarint(c, b, end, 5);
  if (ttlSeconds < 1 || ttlSeconds > TTL_SECONDS_MAX) return null;
  // 6, 7: the scores, omitted when 0.
  let ihsanScore = 0;
  if (b[c.at] === TAG_IHSAN_SCORE) {
    c.at++;
    ihsanScore = presentScore(c, b, end);
    if (ihsanScore < 0) return null;
  }
  let snrScore = 0;
  if (b[c.at] === TAG_SNR_SCORE) {
    c.at++;
    snrScore = presentScore(c, b, end);
    if (snrScore < 0) return null;
  }
  // 8: nonce, 16 to 64 bytes (a one-byte length), and the last bytes of the body.
  if (b[c.at] !== TAG_NONCE) return null;
  const nonceLength = b[c.at + 1];
  if (nonceLength === undefined || nonceLength < NONCE_MIN_BYTES || nonceLength > NONCE_MAX_BYTES) return null;
  if (end - (c.at + 2) !== nonceLength) return null;
  const nonce = b.subarray(c.at + 2, end);
  return {
    agentType,
    payload: { contentType, data },
    senderPublicKey,
    timestampMs,
    ttlSeconds,
    ihsanScore,
    snrScore,
    nonce,
  };
}
