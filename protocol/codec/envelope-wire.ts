/**
 * The outer Envelope message, read and written by hand rather than through protobufjs's
 * generated code: the receiver needs the raw bytes of field 1 (the signed body), which
 * a decoder that rebuilds the body as an object would lose.
 *
 * Only one layout is accepted, the one every canonical encoder writes:
 *   0x0a <varint n> <n body bytes> 0x12 0x40 <64 signature bytes>
 * so an envelope has exactly one byte form. Anything else (other or repeated fields,
 * wrong wire types, padded varints, trailing bytes) is refused with the reason.
 */
import type { Reader } from 'protobufjs';
import { protobuf } from './schema.ts';

const BODY_TAG = (1 << 3) | 2; // field 1, length-delimited
const SIGNATURE_TAG = (2 << 3) | 2; // field 2, length-delimited

export interface EnvelopeParts {
  /** The EnvelopeBody bytes exactly as received: what the signature covers. */
  body: Uint8Array;
  signature: Uint8Array;
}

/** Thrown by splitEnvelope; the message says what is wrong with the bytes. */
export class EnvelopeWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeWireError';
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/**
 * Reads one length-delimited field at the reader's position; returns its bytes
 * (a view into `bytes`) after checking the tag and that the length varint is minimal.
 */
function readField(r: Reader, bytes: Uint8Array, tag: number, name: string): Uint8Array {
  if (r.pos >= r.len) throw new EnvelopeWireError(`${name} (field ${tag >>> 3}) is missing`);
  const at = r.pos;
  const t = r.uint32();
  if (t !== tag || r.pos - at !== 1) {
    throw new EnvelopeWireError(
      t === tag
        ? `${name} tag is not a minimal varint`
        : `expected ${name} (field ${tag >>> 3}, wire type 2) at byte ${at}, found field ${t >>> 3} wire type ${t & 7}`,
    );
  }
  const lengthAt = r.pos;
  const length = r.uint32();
  if (r.pos - lengthAt !== varintSize(length)) throw new EnvelopeWireError(`${name} length is not a minimal varint`);
  if (length > r.len - r.pos) {
    throw new EnvelopeWireError(`${name} claims ${length} bytes but ${r.len - r.pos} remain`);
  }
  const start = r.pos;
  r.skip(length);
  return bytes.subarray(start, start + length);
}

/** Splits Envelope wire bytes into the raw body and the signature; throws EnvelopeWireError. */
export function splitEnvelope(bytes: Uint8Array): EnvelopeParts {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeWireError('envelope must be bytes');
  if (bytes.length === 0) throw new EnvelopeWireError('envelope is empty');
  // The base Reader, not Reader.create: it never copies and works on any Uint8Array.
  const r = new protobuf.Reader(bytes);
  try {
    if (bytes[0] !== BODY_TAG) {
      // Say what the first field was, for people debugging their encoder.
      const t = r.uint32();
      throw new EnvelopeWireError(`envelope must start with body (field 1), found field ${t >>> 3} wire type ${t & 7}`);
    }
    const body = readField(r, bytes, BODY_TAG, 'body');
    const signature = readField(r, bytes, SIGNATURE_TAG, 'signature');
    if (r.pos !== bytes.length) throw new EnvelopeWireError(`${bytes.length - r.pos} bytes follow the signature`);
    return { body, signature };
  } catch (err) {
    if (err instanceof EnvelopeWireError) throw err;
    // protobufjs's own errors: a varint or length that runs past the end.
    throw new EnvelopeWireError(`truncated envelope (${(err as Error).message})`);
  }
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/**
 * Envelope wire bytes from body bytes and a signature, in the one accepted layout.
 * Written by hand into a fresh, exactly sized array: protobufjs's writers return views
 * into a shared slab, which a caller could not safely keep, slice or post to a worker.
 */
export function joinEnvelope(body: Uint8Array, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(
    2 + varintSize(body.length) + body.length + varintSize(signature.length) + signature.length,
  );
  out[0] = BODY_TAG;
  let at = writeVarint(out, 1, body.length);
  out.set(body, at);
  at += body.length;
  out[at++] = SIGNATURE_TAG;
  at = writeVarint(out, at, signature.length);
  out.set(signature, at);
  return out;
}
