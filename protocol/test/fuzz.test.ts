/**
 * Property and fuzz tests: over 100,000 random and mutated byte strings thrown at the
 * verifier. It must never throw, and each mutation class may only produce the codes
 * listed for it:
 *
 *   random bytes                                   R005
 *   random well-typed fields, random signature     R005 / R007 / R001 / R002, exactly as an independent oracle says
 *   bit flips inside the signature                 R002
 *   bit flips in the envelope's framing            R005
 *   bit flips inside the body                      R005 if the body no longer decodes to valid canonical fields,
 *                                                  else R007 / R001 by time, else R002 (never accepted, never R003/4/6)
 *   truncations                                    R005
 *   insertions                                     as for body flips; R005 when in the signature or at the end
 *   duplicated fields (body or envelope)           R005, even when properly re-signed
 *   unknown fields, properly re-signed             R005
 *   valid fields, properly signed                  accepted / R007 / R001 / R003 / R004, exactly as the oracle says
 *
 * fast-check prints the seed of any failure; rerun with it to reproduce.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { AGENT_TYPE_NAMES, type EnvelopeFields, encodeBody } from '../pci/fields.ts';
import { defaultPciPolicy } from '../pci/policy.ts';
import { signEnvelope } from '../pci/sign.ts';
import { decodeEnvelope, EnvelopeVerifier, type VerifyResult } from '../pci/verify.ts';
import { concat, fields, fieldsOf, GOLDEN_SEED, GOLDEN_SIGNER, signRawBody, T0, writer } from './helpers.ts';

const NOW = T0 + 1000;
const verifier = new EnvelopeVerifier();
let inputs = 0;
/** Codes seen per mutation class, to show the fuzzing reaches past the decoder. */
const seen = new Map<string, Map<string, number>>();
let currentClass = '';

/** Verifies without recording, counting inputs and codes; fails the property if verify throws. */
function run(bytes: Uint8Array, now = NOW): VerifyResult {
  inputs++;
  const r = verifier.verify(bytes, now, { record: false });
  const counts = seen.get(currentClass) ?? new Map<string, number>();
  counts.set(code(r), (counts.get(code(r)) ?? 0) + 1);
  seen.set(currentClass, counts);
  return r;
}

function inClass(name: string): void {
  currentClass = name;
}

const code = (r: VerifyResult) => (r.ok ? 'OK' : r.code);

/** Valid bases of different shapes, so mutations hit different layouts (1- and 2-byte body lengths). */
const BASES = [
  fields(),
  fields({ agentType: 'USER', payload: { contentType: 'text/plain', data: new Uint8Array() }, ihsanScore: 1 }),
  fields({
    agentType: 'SOVEREIGN',
    payload: { contentType: 'application/octet-stream', data: new Uint8Array(700).map((_, i) => i * 7) },
    nonce: new Uint8Array(64).fill(0x5a),
  }),
].map((f) => signEnvelope(f, GOLDEN_SEED).bytes);
for (const b of BASES) if (code(run(b)) !== 'OK') throw new Error('a fuzz base envelope does not verify');

/** Where the body starts and ends inside an envelope of the one accepted layout. */
function bodyRange(envelope: Uint8Array): [number, number] {
  const { body } = splitEnvelope(envelope);
  const end = envelope.length - 66;
  return [end - body.length, end];
}

/** What the verifier must answer for bytes that decode to a valid canonical envelope whose signature is not valid. */
function expectedForForged(bytes: Uint8Array, now = NOW): string {
  const d = decodeEnvelope(bytes, defaultPciPolicy);
  if (!d.ok) return 'R005';
  const e = d.envelope;
  if (e.timestampMs > now + defaultPciPolicy.maxFutureSkewMs) return 'R007';
  if (now > e.timestampMs + e.ttlSeconds * 1000) return 'R001';
  return 'R002';
}

const base = fc.constantFrom(...BASES);

describe('fuzz: the verifier never throws and answers with the right codes', () => {
  it('random bytes: R005 (35,000 inputs)', () => {
    inClass('random');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 600, size: 'max' }),
          // Random bytes behind a plausible envelope header.
          fc.uint8Array({ maxLength: 300, size: 'max' }).map((b) => concat(new Uint8Array([0x0a, b.length & 0x7f]), b)),
        ),
        (bytes) => {
          expect(code(run(bytes))).toBe('R005');
        },
      ),
      { numRuns: 35_000 },
    );
  });

  it('random well-typed fields with a random signature: as the oracle says (8,000 inputs)', () => {
    inClass('fields');
    const score = fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double(),
      fc.constantFrom(0, -0, 1, Number.NaN, 1 + Number.EPSILON),
    );
    const time = fc.oneof(
      fc.integer({ min: T0 - 400_000, max: T0 + 40_000 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    const arb = fc.record({
      agentType: fc.constantFrom(...AGENT_TYPE_NAMES),
      contentType: fc.oneof(fc.stringMatching(/^[\x20-\x7e]{1,20}$/), fc.string({ maxLength: 300, size: 'max' })),
      data: fc.uint8Array({ maxLength: 100 }),
      key: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40, size: 'max' })),
      timestampMs: time,
      ttlSeconds: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 0xffff_ffff })),
      ihsanScore: score,
      snrScore: score,
      nonce: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.uint8Array({ maxLength: 80, size: 'max' })),
      signature: fc.oneof(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ maxLength: 70, size: 'max' }),
      ),
    });
    const printable = /^[\x20-\x7e]{1,255}$/;
    const badScore = (x: number) => Number.isNaN(x) || x < 0 || x > 1;
    fc.assert(
      fc.property(arb, (a) => {
        const f: EnvelopeFields = {
          agentType: a.agentType,
          payload: { contentType: a.contentType, data: a.data },
          senderPublicKey: a.key,
          timestampMs: a.timestampMs,
          ttlSeconds: a.ttlSeconds,
          ihsanScore: a.ihsanScore,
          snrScore: a.snrScore,
          nonce: a.nonce,
        };
        const bytes = joinEnvelope(encodeBody(f), a.signature);
        // The oracle, written from the README's rules, not from the code. -0 is not
        // written (it equals the default), so it arrives as 0.
        let expected: string;
        if (
          a.signature.length !== 64 ||
          !printable.test(a.contentType) ||
          a.key.length !== 32 ||
          a.timestampMs < 1 ||
          a.ttlSeconds < 1 ||
          a.ttlSeconds > 86_400 ||
          badScore(a.ihsanScore) ||
          badScore(a.snrScore) ||
          a.nonce.length < 16 ||
          a.nonce.length > 64
        ) {
          expected = 'R005';
        } else if (a.timestampMs > NOW + 30_000) expected = 'R007';
        else if (NOW > a.timestampMs + a.ttlSeconds * 1000) expected = 'R001';
        else expected = 'R002';
        expect(code(run(bytes))).toBe(expected);
      }),
      { numRuns: 8_000 },
    );
  });

  it('bit flips: R002 in the signature, R005 in the framing, the oracle in the body (25,000 inputs)', () => {
    inClass('flips');
    fc.assert(
      fc.property(
        base,
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 3, maxLength: 3 }),
        (b, positions, bits) => {
          const bytes = b.slice();
          const [bodyStart, bodyEnd] = bodyRange(b);
          const at = [...new Set(positions.map((p) => p % b.length))];
          at.forEach((p, i) => {
            bytes[p]! ^= 1 << bits[i]!;
          });
          const r = code(run(bytes));
          if (at.every((p) => p >= b.length - 64)) expect(r).toBe('R002');
          else if (at.some((p) => p < bodyStart || (p >= bodyEnd && p < b.length - 64))) expect(r).toBe('R005');
          else if (at.every((p) => p >= bodyStart && p < bodyEnd)) expect(r).toBe(expectedForForged(bytes));
          else expect(['R005', 'R007', 'R001', 'R002']).toContain(r); // body and signature both flipped
        },
      ),
      { numRuns: 25_000 },
    );
  });

  it('truncations: R005 (10,000 inputs)', () => {
    inClass('truncations');
    fc.assert(
      fc.property(base, fc.nat(), (b, n) => {
        expect(code(run(b.subarray(0, n % b.length)))).toBe('R005');
      }),
      { numRuns: 10_000 },
    );
  });

  it('insertions: the oracle, and R005 in the signature or at the end (10,000 inputs)', () => {
    inClass('insertions');
    fc.assert(
      fc.property(base, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (b, p, extra) => {
        const at = p % (b.length + 1);
        const bytes = concat(b.subarray(0, at), extra, b.subarray(at));
        const r = code(run(bytes));
        if (at > b.length - 64) expect(r).toBe('R005');
        else expect(r).toBe(expectedForForged(bytes));
        expect(['R005', 'R007', 'R001', 'R002']).toContain(r);
      }),
      { numRuns: 10_000 },
    );
  });

  it('duplicated fields, in the body (properly re-signed or not) or the envelope: R005 (5,000 inputs)', () => {
    inClass('duplicates');
    fc.assert(
      fc.property(
        base,
        fc.nat(),
        fc.nat(),
        fc.constantFrom('body', 'body-resigned', 'envelope'),
        (b, which, where, mode) => {
          let bytes: Uint8Array;
          if (mode === 'envelope') {
            const parts = fieldsOf(b);
            const i = which % parts.length;
            const j = where % (parts.length + 1);
            const copies = parts.map(([, x]) => x);
            copies.splice(j, 0, parts[i]![1]);
            bytes = concat(...copies);
          } else {
            const { body, signature } = splitEnvelope(b);
            const parts = fieldsOf(body).map(([, x]) => x);
            const i = which % parts.length;
            const j = where % (parts.length + 1);
            parts.splice(j, 0, parts[i]!);
            const dup = concat(...parts);
            bytes = mode === 'body' ? joinEnvelope(dup, signature) : signRawBody(dup);
          }
          expect(code(run(bytes))).toBe('R005');
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('unknown fields in the body, properly re-signed: R005 (5,000 inputs)', () => {
    inClass('unknown');
    const unknownField = fc
      .record({
        field: fc.integer({ min: 9, max: 2 ** 29 - 1 }),
        wire: fc.constantFrom(0, 1, 2, 5),
        value: fc.uint8Array({ maxLength: 20 }),
        n: fc.nat(),
      })
      .map(({ field, wire, value, n }) => {
        const w = writer().uint32((field << 3) | wire);
        if (wire === 0) w.uint32(n);
        else if (wire === 1) w.fixed64(n);
        else if (wire === 2) w.bytes(value);
        else w.fixed32(n);
        return w.finish();
      });
    fc.assert(
      fc.property(base, unknownField, fc.nat(), (b, extra, where) => {
        const parts = fieldsOf(splitEnvelope(b).body).map(([, x]) => x);
        parts.splice(where % (parts.length + 1), 0, extra);
        expect(code(run(signRawBody(concat(...parts))))).toBe('R005');
      }),
      { numRuns: 5_000 },
    );
  });

  it('valid fields, properly signed: accepted or R007 / R001 / R003 / R004 exactly as the oracle says (3,000 inputs)', () => {
    inClass('valid');
    const arb = fc.record({
      agentType: fc.constantFrom(...AGENT_TYPE_NAMES),
      timestampMs: fc.integer({ min: T0 - 400_000, max: T0 + 40_000 }),
      ttlSeconds: fc.integer({ min: 1, max: 600 }),
      ihsanScore: fc.oneof(fc.double({ min: 0.9, max: 1, noNaN: true }), fc.constantFrom(0.95, 1)),
      snrScore: fc.oneof(fc.double({ min: 0.8, max: 1, noNaN: true }), fc.constantFrom(0.85, 1)),
      nonce: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const { bytes } = signEnvelope(fields({ ...a }), GOLDEN_SIGNER);
        let expected = 'OK';
        if (a.timestampMs > NOW + 30_000) expected = 'R007';
        else if (NOW > a.timestampMs + a.ttlSeconds * 1000) expected = 'R001';
        else if (a.ihsanScore < 0.95) expected = 'R003';
        else if (a.snrScore < 0.85) expected = 'R004';
        expect(code(run(bytes))).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  afterAll(() => {
    expect(inputs).toBeGreaterThanOrEqual(100_000);
    if (process.env['FUZZ_STATS']) {
      console.log(Object.fromEntries([...seen].map(([k, v]) => [k, Object.fromEntries(v)])));
    }
    const codes = (c: string) => [...(seen.get(c)?.keys() ?? [])].sort();
    // Every class reaches the codes it can reach, so no class is vacuous.
    expect(codes('random')).toEqual(['R005']);
    expect(codes('fields')).toEqual(['R001', 'R002', 'R005', 'R007']);
    expect(codes('flips')).toEqual(['R001', 'R002', 'R005', 'R007']);
    expect(codes('truncations')).toEqual(['R005']);
    expect(codes('duplicates')).toEqual(['R005']);
    expect(codes('unknown')).toEqual(['R005']);
    expect(codes('valid')).toEqual(['OK', 'R001', 'R003', 'R004', 'R007']);
  });
});
