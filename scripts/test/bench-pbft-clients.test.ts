/**
 * bench:pbft's clients: their pre-signed requests are kept as bytes and made into
 * request objects only when sent, and what is made is exactly what the client signed.
 */
import { describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { SignedRequests, saturationClient } from '../bench-pbft-clients.ts';

describe('SignedRequests', () => {
  it('makes each request as the client signed it: timestamps from 1, its own key, a put of its own key', () => {
    const pool = SignedRequests.sign(7, 12);
    expect(pool.length).toBe(12);
    const signer = saturationClient(7);
    const verifier = new PbftVerifier();
    for (const i of [0, 1, 9, 11]) {
      const r = pool.request(i);
      // Ed25519 signatures are deterministic: the same request signed again is the same bytes.
      const expected = signRequest(signer, i + 1, encodeKvOperation({ op: 'put', key: 'c7', value: String(i + 1) }));
      expect(r).toEqual(expected);
      expect(verifier.verify(r, r.client)).toBe(true);
    }
  });

  it('makes a fresh object on every call, so a sent request is not kept by the pool', () => {
    const pool = SignedRequests.sign(0, 2);
    const a = pool.request(1);
    const b = pool.request(1);
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });

  it('refuses an index outside the pool', () => {
    const pool = SignedRequests.sign(3, 2);
    expect(() => pool.request(2)).toThrow(RangeError);
    expect(() => pool.request(-1)).toThrow('no request -1 of 2');
    expect(() => pool.request(0.5)).toThrow(RangeError);
  });

  it('gives different clients different keys and operations', () => {
    const [a, b] = [SignedRequests.sign(1, 1).request(0), SignedRequests.sign(2, 1).request(0)];
    expect(Buffer.from(a.client).equals(Buffer.from(b.client))).toBe(false);
    expect(new TextDecoder().decode(a.operation)).toBe('{"op":"put","key":"c1","value":"1"}');
    expect(new TextDecoder().decode(b.operation)).toBe('{"op":"put","key":"c2","value":"1"}');
  });
});
