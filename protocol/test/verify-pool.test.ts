import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEnvelope } from '../pci/sign.ts';
import { EnvelopeVerifier, type VerifyResult } from '../pci/verify.ts';
import { VerifyPool } from '../pci/verify-pool.ts';
import { fields, GOLDEN_SEED, goldenFields, hex, T0 } from './helpers.ts';

const NOW = T0 + 1000;
const summary = (r: VerifyResult) => (r.ok ? `OK ${r.idHex} ${r.expiresAtMs}` : `${r.code} ${r.reason}`);

function mixedInputs(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const s = signEnvelope(
      fields({ nonce: new Uint8Array(16).fill(i), ihsanScore: i % 5 === 0 ? 0.5 : 0.97 }),
      GOLDEN_SEED,
    );
    out.push(s.bytes);
    const broken = s.bytes.slice();
    broken[broken.length - 1]! ^= 1;
    out.push(broken);
    out.push(s.bytes.subarray(0, i * 3));
  }
  return out;
}

describe('VerifyPool', () => {
  let pool: VerifyPool;
  beforeAll(async () => {
    pool = await VerifyPool.create(2);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('gives the same answers as EnvelopeVerifier, in input order', async () => {
    const inputs = mixedInputs();
    const sync = new EnvelopeVerifier();
    const expected = inputs.map((b) => summary(sync.verify(b, NOW, { record: false })));
    const got = await pool.verify(inputs, NOW, { record: false });
    expect(got.map(summary)).toEqual(expected);
    const codes = new Set(expected.map((s) => s.split(' ')[0]));
    expect(codes).toEqual(new Set(['OK', 'R002', 'R003', 'R005']));
    // Local R005s keep their flag through the pool.
    const tight = await VerifyPool.create(1, { policy: { maxEnvelopeBytes: 100 } });
    try {
      const [r] = await tight.verify([inputs[0]!], NOW);
      expect(r && !r.ok && r.code === 'R005' && r.local).toBe(true);
    } finally {
      await tight.close();
    }
  });

  it('returns decoded envelopes with their bytes intact', async () => {
    const s = signEnvelope(goldenFields(), GOLDEN_SEED);
    const r = await pool.verify(s.bytes, NOW, { record: false });
    if (!r.ok) throw new Error(r.reason);
    expect(hex(r.id)).toBe(s.idHex);
    expect(hex(r.envelope.payload.data)).toBe(hex(s.envelope.payload.data));
    expect(hex(r.envelope.signature)).toBe(hex(s.envelope.signature));
    expect(hex(r.envelope.nonce)).toBe(hex(s.envelope.nonce));
    // The envelope is decoded on first read, and survives a spread.
    const copy = { ...r };
    expect(copy.envelope.timestampMs).toBe(T0);
    expect(JSON.parse(JSON.stringify(r)).envelope.agentType).toBe('MODEL');
  });

  it('applies the replay stage through its verifier (R006), and record: false defers it', async () => {
    const s = signEnvelope(fields({ nonce: new Uint8Array(16).fill(0xee) }), GOLDEN_SEED);
    const first = await pool.verify(s.bytes, NOW, { record: false });
    expect(first.ok).toBe(true);
    expect((await pool.verify(s.bytes, NOW)).ok).toBe(true);
    const again = await pool.verify(s.bytes, NOW);
    expect(again.ok ? 'OK' : again.code).toBe('R006');
    expect(pool.verifier.isSeen(s.idHex, NOW)).toBe(true);
  });

  it('shares a replay cache with a synchronous verifier', async () => {
    const verifier = new EnvelopeVerifier();
    const shared = await VerifyPool.create(1, { verifier });
    try {
      const s = signEnvelope(fields({ nonce: new Uint8Array(16).fill(0xdd) }), GOLDEN_SEED);
      expect(verifier.verify(s.bytes, NOW).ok).toBe(true);
      const r = await shared.verify(s.bytes, NOW);
      expect(r.ok ? 'OK' : r.code).toBe('R006');
    } finally {
      await shared.close();
    }
  });

  it('handles many concurrent single calls, non-bytes, empty batches and a 1 MiB envelope', async () => {
    const inputs = mixedInputs();
    const sync = new EnvelopeVerifier();
    const expected = inputs.map((b) => summary(sync.verify(b, NOW, { record: false })));
    const got = await Promise.all(inputs.map((b) => pool.verify(b, NOW, { record: false })));
    expect(got.map(summary)).toEqual(expected);
    expect(await pool.verify([], NOW)).toEqual([]);
    const [junk] = await pool.verify(['x' as never], NOW);
    expect(junk && !junk.ok && junk.code).toBe('R005');
    const big = signEnvelope(
      fields({ payload: { contentType: 'application/octet-stream', data: new Uint8Array(1024 * 1024 - 300) } }),
      GOLDEN_SEED,
    );
    expect(big.bytes.length).toBeLessThanOrEqual(1024 * 1024);
    expect((await pool.verify(big.bytes, NOW, { record: false })).ok).toBe(true);
    expect(pool.queued).toBe(0);
  });

  it('refuses work once closed, and a bad nowMs', async () => {
    const p = await VerifyPool.create(1);
    await expect(p.verify(new Uint8Array(), Number.NaN)).rejects.toThrow(TypeError);
    const pending = expect(p.verify(mixedInputs(), NOW)).rejects.toThrow(/closed/);
    await p.close();
    await pending;
    await expect(p.verify(new Uint8Array(), NOW)).rejects.toThrow(/closed/);
    await p.close();
  });

  it('refuses a bad size', async () => {
    await expect(VerifyPool.create(0)).rejects.toThrow(RangeError);
  });
});

describe('VerifyPool, when workers fail', () => {
  it('a worker that dies fails its batches, is replaced, and the pool carries on', async () => {
    const pool = await VerifyPool.create(1, { workerUrl: new URL('./fixtures/crash-worker.ts', import.meta.url) });
    try {
      const s = signEnvelope(goldenFields(), GOLDEN_SEED);
      expect((await pool.verify(s.bytes, NOW, { record: false })).ok).toBe(true);
      await expect(pool.verify(new Uint8Array([0xde, 0xad]), NOW)).rejects.toThrow(/verify worker failed: .*code 3/);
      expect((await pool.verify(s.bytes, NOW, { record: false })).ok).toBe(true);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a worker that cannot load makes create fail', async () => {
    await expect(
      VerifyPool.create(1, { workerUrl: new URL('./fixtures/broken-worker.ts', import.meta.url) }),
    ).rejects.toThrow(/cannot load the verifier/);
  });
});
