/**
 * What VerifyPool and its workers send each other: typed arrays in transferred
 * buffers, so a batch costs two postMessage calls and no per-envelope cloning.
 */
import type { PciPolicy } from './policy.ts';

export interface WorkerInit {
  policy: PciPolicy;
  keyCacheSize: number;
}

export interface BatchRequest {
  seq: number;
  buffer: ArrayBuffer;
  /** offsets[i]..offsets[i + 1] is envelope i; length is count + 1. */
  offsets: Uint32Array;
  /** nowMs of each envelope. */
  nows: Float64Array;
}

/** status[i]: ACCEPTED, or the reject code's index in REJECT_CODE_LIST + 1, plus LOCAL_FLAG when local. */
export const ACCEPTED = 0;
export const LOCAL_FLAG = 0x80;

export interface BatchResponse {
  seq: number;
  /** The request's buffer, back: accepted envelopes are decoded from it on demand. */
  buffer: ArrayBuffer;
  offsets: Uint32Array;
  status: Uint8Array;
  /** 32 bytes per envelope; meaningful for accepted ones. */
  ids: Uint8Array;
  expiresAtMs: Float64Array;
  /** One per rejected envelope, in order. */
  reasons: string[];
}
