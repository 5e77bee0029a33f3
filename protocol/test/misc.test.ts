import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOMAIN_DESCRIPTIONS, DOMAINS } from '../crypto/domains.ts';
import { EnvelopeFieldError } from '../pci/fields.ts';
import { pciGossipVerdict } from '../pci/gossip.ts';
import { REJECT_CODES } from '../pci/reject-codes.ts';
import { signEnvelope } from '../pci/sign.ts';
import { decodeSubmitResponse, encodeSubmitResponse } from '../pci/submit-response.ts';
import type { VerifyResult } from '../pci/verify.ts';
import { fields, GOLDEN_SEED, hex } from './helpers.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('domain tags', () => {
  it('are well-formed and unique', () => {
    const tags = Object.values(DOMAINS);
    expect(new Set(tags).size).toBe(tags.length);
    for (const t of tags) expect(t).toMatch(/^bizra\/[a-z0-9-]+(\/[a-z0-9-]+)*\/v[1-9][0-9]*$/);
    expect(Object.keys(DOMAIN_DESCRIPTIONS).sort()).toEqual([...tags].sort());
  });
  it('are all in protocol/README.md, with their descriptions', () => {
    for (const [tag, what] of Object.entries(DOMAIN_DESCRIPTIONS)) expect(readme).toContain(`| \`${tag}\` | ${what} |`);
  });
  it('reject codes are all in protocol/README.md', () => {
    for (const [code, { name }] of Object.entries(REJECT_CODES)) expect(readme).toContain(`| ${code} | \`${name}\` |`);
  });
});

describe('signEnvelope', () => {
  it('refuses fields a verifier would call malformed, naming the field', () => {
    const cases: [Parameters<typeof fields>[0], string][] = [
      [{ ihsanScore: 2 }, 'ihsanScore'],
      [{ snrScore: -0 }, 'snrScore'],
      [{ ttlSeconds: 0 }, 'ttlSeconds'],
      [{ timestampMs: 1.5 }, 'timestampMs'],
      [{ nonce: new Uint8Array(8) }, 'nonce'],
      [{ payload: { contentType: '', data: new Uint8Array() } }, 'payload.contentType'],
      [{ agentType: 'X' as never }, 'agentType'],
    ];
    for (const [over, field] of cases) {
      let caught: unknown;
      try {
        signEnvelope(fields(over), GOLDEN_SEED);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(EnvelopeFieldError);
      expect((caught as EnvelopeFieldError).field).toBe(field);
    }
  });
  it('fills senderPublicKey from the seed and returns a standalone array', () => {
    const s = signEnvelope(fields(), GOLDEN_SEED);
    expect(hex(s.envelope.senderPublicKey)).toBe('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8');
    expect(s.bytes.byteOffset).toBe(0);
    expect(s.bytes.buffer.byteLength).toBe(s.bytes.length);
  });
});

describe('PciSubmitResponse', () => {
  it('round-trips accepted and rejected answers', () => {
    const id = new Uint8Array(32).fill(7);
    expect(decodeSubmitResponse(encodeSubmitResponse({ ok: true, id }))).toEqual({ ok: true, id: expect.anything() });
    expect(hex((decodeSubmitResponse(encodeSubmitResponse({ ok: true, id })) as { id: Uint8Array }).id)).toBe(hex(id));
    const rej = { ok: false as const, code: 'RATE_LIMITED', reason: 'over 100 envelopes/s' };
    expect(decodeSubmitResponse(encodeSubmitResponse(rej))).toEqual(rej);
  });
  it('caps long reasons and refuses malformed answers', () => {
    const long = encodeSubmitResponse({ ok: false, code: 'R005', reason: 'x'.repeat(5000) });
    expect((decodeSubmitResponse(long) as { reason: string }).reason.length).toBe(1024);
    expect(() => decodeSubmitResponse(new Uint8Array())).toThrow(/neither/);
    expect(() => decodeSubmitResponse(new Uint8Array([0x0a, 0x01, 0x00]))).toThrow(/32/);
    expect(() => decodeSubmitResponse(new Uint8Array([0x12, 0x00]))).toThrow(/without a code/);
    expect(() => decodeSubmitResponse(new Uint8Array([0x0a, 0x05]))).toThrow(/malformed/);
  });
});

describe('pciGossipVerdict', () => {
  const r = (code: string, local?: true) =>
    ({ ok: false, code, reason: '', ...(local ? { local } : {}) }) as VerifyResult;
  it('rejects only what no honest relay forwards', () => {
    expect(pciGossipVerdict({ ok: true } as VerifyResult)).toBe('accept');
    expect(pciGossipVerdict(r('R002'))).toBe('reject');
    expect(pciGossipVerdict(r('R005'))).toBe('reject');
    for (const c of ['R001', 'R003', 'R004', 'R006', 'R007']) expect(pciGossipVerdict(r(c))).toBe('ignore');
    expect(pciGossipVerdict(r('R005', true))).toBe('ignore');
  });
});
