/**
 * HeartbeatBatch, the frame of the heartbeat relay: `repeated SignedHeartbeat
 * heartbeats = 1`, so on the wire a run of `0a <len> <SignedHeartbeat bytes>`. Read
 * and written by hand: a relay handles thousands of frames a second, and every entry
 * is kept as the exact bytes its origin signed (they are forwarded as they came).
 * Pure: no clock, no I/O.
 */
import { type Cursor, minimalVarint } from '../codec/canonical-varint.ts';
import { MAX_HEARTBEAT_BYTES } from './heartbeat.ts';

const TAG_HEARTBEATS = 0x0a; // field 1, length-delimited

/** Heartbeats in one frame, at most: a federation's worth, several times over. */
export const MAX_BATCH_ENTRIES = 4096;

/** The largest frame a relay sends or accepts (entries plus their 3-byte headers). */
export const MAX_BATCH_BYTES = MAX_BATCH_ENTRIES * (MAX_HEARTBEAT_BYTES + 3);

function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}

/** The HeartbeatBatch bytes of `entries` (each already a SignedHeartbeat encoding). */
export function encodeHeartbeatBatch(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > MAX_BATCH_ENTRIES) throw new RangeError(`at most ${MAX_BATCH_ENTRIES} heartbeats per batch`);
  let size = 0;
  for (const e of entries) {
    if (e.length > MAX_HEARTBEAT_BYTES) throw new RangeError(`a heartbeat is at most ${MAX_HEARTBEAT_BYTES} bytes`);
    size += 1 + varintLength(e.length) + e.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const e of entries) {
    out[at++] = TAG_HEARTBEATS;
    let n = e.length;
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/**
 * The entries of a HeartbeatBatch, as views into `bytes`, or a reason the frame is
 * malformed (another field, a padded or oversized length, bytes cut short, too many
 * entries). Entries themselves are not read here. Never throws.
 */
export function decodeHeartbeatBatch(bytes: Uint8Array): Uint8Array[] | string {
  const entries: Uint8Array[] = [];
  const c: Cursor = { at: 0 };
  const end = bytes.length;
  while (c.at < end) {
    if (bytes[c.at] !== TAG_HEARTBEATS)
      return `unexpected byte 0x${bytes[c.at]!.toString(16)} at ${c.at}; expected field 1`;
    c.at++;
    const length = minimalVarint(c, bytes, end, 2);
    if (length < 0 || length > MAX_HEARTBEAT_BYTES) return `entry ${entries.length} has a bad or oversized length`;
    if (length > end - c.at) return `entry ${entries.length} claims ${length} bytes but ${end - c.at} remain`;
    if (entries.length === MAX_BATCH_ENTRIES) return `more than ${MAX_BATCH_ENTRIES} heartbeats in one batch`;
    entries.push(bytes.subarray(c.at, c.at + length));
    c.at += length;
  }
  return entries;
}
