import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AGENT_TYPE_NAMES, EnvelopeFieldError, type UnsignedEnvelopeFields } from '../pci/fields.ts';
import { envelopeFromJson, envelopeToJson, SIGNED_ENVELOPE_JSON_SCHEMA, signedEnvelopeFromJson } from '../pci/json.ts';
import { signEnvelope } from '../pci/sign.ts';
import { EnvelopeVerifier } from '../pci/verify.ts';
import { fields, GOLDEN_SEED, goldenFields, hex, T0 } from './helpers.ts';

const golden = signEnvelope(goldenFields(), GOLDEN_SEED);
const goldenJson = () => JSON.parse(JSON.stringify(envelopeToJson(golden.envelope)));

function throwsField(obj: unknown, field: string, message?: RegExp): void {
  try {
    signedEnvelopeFromJson(obj);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvelopeFieldError);
    expect((err as EnvelopeFieldError).field).toBe(field);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected an error about ${field}`);
}

describe('JSON form', () => {
  it('has base64 bytes, numbers and the agent type name', () => {
    expect(envelopeToJson(golden.envelope)).toEqual({
      agentType: 'MODEL',
      payload: { contentType: 'application/json', data: 'eyJjbGFpbSI6IndhdGVyIGlzIHdldCIsImNvbmZpZGVuY2UiOjAuOTl9' },
      senderPublicKey: 'A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=',
      timestampMs: T0,
      ttlSeconds: 300,
      ihsanScore: 0.97,
      snrScore: 0.9,
      nonce: 'oKGio6SlpqeoqaqrrK2urw==',
      signature: expect.stringMatching(/^dTzeb4bPpLTmzp14mNtJfyMuKe1iLRZyYqPh2tUbCrnbK2WWf38lY7RDOdOE/),
    });
  });

  it('rebuilds the exact wire bytes of a signed envelope, which verify', () => {
    const bytes = signedEnvelopeFromJson(goldenJson());
    expect(hex(bytes)).toBe(hex(golden.bytes));
    expect(new EnvelopeVerifier().verify(bytes, T0).ok).toBe(true);
  });

  it('round-trips any valid envelope through JSON text byte for byte (doubles included)', () => {
    const arb = fc.record({
      agentType: fc.constantFrom(...AGENT_TYPE_NAMES),
      payload: fc.record({
        contentType: fc.stringMatching(/^[\x20-\x7e]{1,40}$/),
        data: fc.uint8Array({ maxLength: 200 }),
      }),
      timestampMs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      ttlSeconds: fc.integer({ min: 1, max: 0xffff_ffff }),
      ihsanScore: fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
      snrScore: fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
      nonce: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    });
    const seed = new Uint8Array(32).fill(3);
    fc.assert(
      fc.property(arb, (f: UnsignedEnvelopeFields) => {
        const signed = signEnvelope(f, seed);
        const text = JSON.stringify(envelopeToJson(signed.envelope));
        expect(hex(signedEnvelopeFromJson(JSON.parse(text)))).toBe(hex(signed.bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('parses an unsigned file (no key, no signature) into fields to sign', () => {
    const j = goldenJson();
    delete j.signature;
    delete j.senderPublicKey;
    const parsed = envelopeFromJson(j);
    expect(parsed.signature).toBeUndefined();
    expect(parsed.senderPublicKey).toBeUndefined();
    expect(hex(signEnvelope(parsed.fields, GOLDEN_SEED).bytes)).toBe(hex(golden.bytes));
  });

  it('names the field for every shape error', () => {
    const j = goldenJson;
    throwsField(null, 'envelope', /must be an object/);
    throwsField([j()], 'envelope', /must be an object/);
    throwsField({ ...j(), extra: 1 }, 'extra', /unknown field/);
    throwsField({ ...j(), agentType: 'ROBOT' }, 'agentType', /one of USER, MODEL, SOVEREIGN/);
    throwsField({ ...j(), agentType: 2 }, 'agentType');
    throwsField({ ...j(), payload: 'x' }, 'payload', /must be an object/);
    throwsField({ ...j(), payload: { contentType: 'a', data: '', more: 1 } }, 'payload.more', /unknown field/);
    throwsField({ ...j(), payload: { contentType: 7, data: '' } }, 'payload.contentType');
    throwsField({ ...j(), payload: { contentType: 'a' } }, 'payload.data', /base64 string/);
    throwsField({ ...j(), payload: { contentType: 'a', data: 'AQ' } }, 'payload.data', /canonical base64/);
    throwsField({ ...j(), payload: { contentType: 'a', data: 'AR==' } }, 'payload.data', /canonical base64/);
    throwsField({ ...j(), nonce: '!!!!' }, 'nonce', /canonical base64/);
    throwsField({ ...j(), nonce: 'AQ-_' }, 'nonce', /canonical base64/);
    throwsField({ ...j(), senderPublicKey: 5 }, 'senderPublicKey');
    throwsField({ ...j(), timestampMs: 1.5 }, 'timestampMs', /integer/);
    throwsField({ ...j(), timestampMs: '1767225600000' }, 'timestampMs', /integer/);
    throwsField({ ...j(), timestampMs: 2 ** 53 }, 'timestampMs', /integer/);
    throwsField({ ...j(), ttlSeconds: -1 }, 'ttlSeconds', /integer from 0 to 4294967295/);
    throwsField({ ...j(), ttlSeconds: 2 ** 32 }, 'ttlSeconds');
    throwsField({ ...j(), ihsanScore: '0.97' }, 'ihsanScore', /must be a number/);
    throwsField({ ...j(), snrScore: null }, 'snrScore');
    const { signature: _s, ...noSig } = j();
    throwsField(noSig, 'signature', /missing/);
    const { senderPublicKey: _k, ...noKey } = j();
    throwsField(noKey, 'senderPublicKey', /missing/);
  });

  it('leaves value ranges to the verifier, which names the field (R005)', () => {
    const bytes = signedEnvelopeFromJson({ ...goldenJson(), ihsanScore: 1.5 });
    const r = new EnvelopeVerifier().verify(bytes, T0);
    expect(r.ok ? '' : `${r.code} ${r.reason}`).toBe('R005 ihsanScore: 1.5 is outside [0, 1]');
    const bad = signedEnvelopeFromJson({ ...goldenJson(), nonce: 'AQ==' });
    const r2 = new EnvelopeVerifier().verify(bad, T0);
    expect(r2.ok ? '' : r2.reason).toBe('nonce: must be 16 to 64 bytes, got 1');
  });

  it('a changed field breaks the signature (R002)', () => {
    const bytes = signedEnvelopeFromJson({ ...goldenJson(), ttlSeconds: 301 });
    const r = new EnvelopeVerifier().verify(bytes, T0);
    expect(r.ok ? '' : r.code).toBe('R002');
  });
});

describe('SIGNED_ENVELOPE_JSON_SCHEMA (ajv, strict, as the HTTP API validates bodies)', () => {
  const validate = new Ajv({ coerceTypes: false, removeAdditional: false }).compile(SIGNED_ENVELOPE_JSON_SCHEMA);
  it('accepts what envelopeToJson writes', () => {
    expect(validate(goldenJson())).toBe(true);
    expect(
      validate(
        JSON.parse(JSON.stringify(envelopeToJson(signEnvelope(fields({ agentType: 'USER' }), GOLDEN_SEED).envelope))),
      ),
    ).toBe(true);
  });
  it('refuses what signedEnvelopeFromJson refuses for shape', () => {
    const j = goldenJson;
    const { signature: _s, ...noSig } = j();
    for (const bad of [
      noSig,
      { ...j(), extra: 1 },
      { ...j(), agentType: 'ROBOT' },
      { ...j(), nonce: 'AQ' },
      { ...j(), nonce: '!!!!' },
      { ...j(), timestampMs: 1.5 },
      { ...j(), ttlSeconds: 2 ** 32 },
      { ...j(), ihsanScore: '1' },
      { ...j(), payload: { contentType: 'a', data: '', x: 1 } },
    ]) {
      expect(validate(bad)).toBe(false);
      expect(() => signedEnvelopeFromJson(bad)).toThrow(EnvelopeFieldError);
    }
  });
});
