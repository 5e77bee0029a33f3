/**
 * The strict reader (readCanonicalBody, and decodeEnvelope built on it) against the
 * path it replaced, kept here as the oracle: protobufjs decode, checkFields, then
 * encodeBody and byte equality. For every input the two must agree on acceptance, and
 * accepted inputs must give identical fields (byte for byte, -0 distinguished from 0);
 * whole envelopes must give identical results, reasons and `local` flags included.
 *
 * Inputs: random valid fields; random well-typed but possibly invalid fields; bodies
 * built field by field and then mutated structurally (duplicated, dropped, swapped,
 * unknown and out-of-order fields, wrong wire types, explicit defaults, padded varints,
 * edge values) inside the body and inside the payload; and byte-level mutations (bit
 * flips, truncations, insertions, random bytes). Per class, the test also requires
 * that both outcomes occur, so no class is vacuous.
 *
 * fast-check prints the seed of any failure; rerun with it to reproduce.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvelopeWireError, joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import {
  AGENT_TYPE_NAMES,
  checkFields,
  checkSignatureShape,
  type DecodedEnvelope,
  decodeBody,
  type EnvelopeFields,
  encodeBody,
  readCanonicalBody,
} from '../pci/fields.ts';
import { defaultPciPolicy, type PciPolicy } from '../pci/policy.ts';
import { type DecodeResult, decodeEnvelope } from '../pci/verify.ts';
import { concat, GOLDEN_SIGNER, rawBody, T0 } from './helpers.ts';

// ---------------------------------------------------------------------------
// The oracle: the verifier's canonical check before the strict reader, verbatim.
// ---------------------------------------------------------------------------

function oracleBody(body: Uint8Array): EnvelopeFields | null {
  let f: EnvelopeFields;
  try {
    f = decodeBody(body);
  } catch {
    return null;
  }
  if (checkFields(f) !== null) return null;
  const again = encodeBody(f);
  return again.length === body.length && Buffer.compare(again, body) === 0 ? f : null;
}

type Malformed = { ok: false; code: 'R005'; reason: string; local?: true };
function malformed(reason: string, local?: true): Malformed {
  return local ? { ok: false, code: 'R005', reason, local } : { ok: false, code: 'R005', reason };
}

function oracleDecodeEnvelope(
  bytes: Uint8Array,
  policy: Pick<PciPolicy, 'maxEnvelopeBytes' | 'maxTtlSeconds'>,
): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return malformed('envelope must be bytes');
  if (bytes.length > policy.maxEnvelopeBytes) {
    return malformed(`envelope is ${bytes.length} bytes; the limit is ${policy.maxEnvelopeBytes}`, true);
  }
  let parts: ReturnType<typeof splitEnvelope>;
  try {
    parts = splitEnvelope(bytes);
  } catch (err) {
    return malformed(err instanceof EnvelopeWireError ? err.message : 'undecodable envelope');
  }
  const sigProblem = checkSignatureShape(parts.signature);
  if (sigProblem !== null) return malformed(sigProblem);
  let fields: ReturnType<typeof decodeBody>;
  try {
    fields = decodeBody(parts.body);
  } catch (err) {
    return malformed(`body is not a valid EnvelopeBody: ${(err as Error).message}`);
  }
  const problem = checkFields(fields);
  if (problem !== null) return malformed(problem);
  if (policy.maxTtlSeconds !== undefined && fields.ttlSeconds > policy.maxTtlSeconds) {
    return malformed(`ttlSeconds: ${fields.ttlSeconds} exceeds this node's limit of ${policy.maxTtlSeconds}`, true);
  }
  const again = encodeBody(fields);
  if (!(again.length === parts.body.length && Buffer.compare(again, parts.body) === 0)) {
    return malformed(
      'body is not canonically encoded (unknown, repeated or out-of-order fields, or explicit defaults)',
    );
  }
  return { ok: true, envelope: { ...fields, signature: parts.signature }, bodyBytes: parts.body };
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

const hexOf = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : `not bytes: ${String(b)}`);
const num = (x: number) => (Object.is(x, -0) ? '-0' : `${typeof x}:${String(x)}`);

/** Fields as plain strings, so that equality is exact: bytes by content, -0 apart from 0. */
function normal(f: EnvelopeFields | DecodedEnvelope): Record<string, string> {
  const out: Record<string, string> = {
    agentType: String(f.agentType),
    contentType: JSON.stringify(f.payload.contentType),
    data: hexOf(f.payload.data),
    senderPublicKey: hexOf(f.senderPublicKey),
    timestampMs: num(f.timestampMs),
    ttlSeconds: num(f.ttlSeconds),
    ihsanScore: num(f.ihsanScore),
    snrScore: num(f.snrScore),
    nonce: hexOf(f.nonce),
    keys: Object.keys(f).sort().join(',') + Object.keys(f.payload).sort().join(','),
  };
  if ('signature' in f) out['signature'] = hexOf(f.signature);
  return out;
}

/** Outcomes per class: [strict reader accepted, refused]. */
const outcomes = new Map<string, [number, number]>();

/** Both paths on body bytes: same verdict, same fields. */
function sameOnBody(cls: string, body: Uint8Array): void {
  const expected = oracleBody(body);
  const got = readCanonicalBody(body);
  const counts = outcomes.get(cls) ?? [0, 0];
  counts[got === null ? 1 : 0]++;
  outcomes.set(cls, counts);
  if (expected === null || got === null) {
    expect({ accepted: got !== null, body: hexOf(body) }).toEqual({ accepted: expected !== null, body: hexOf(body) });
    return;
  }
  expect(normal(got)).toEqual(normal(expected));
  // The byte fields are views into the body, never copies of something else.
  for (const b of [got.senderPublicKey, got.nonce, got.payload.data]) {
    if (b.length > 0) expect(b.buffer).toBe(body.buffer);
  }
}

function normalResult(r: DecodeResult): unknown {
  return r.ok ? { ok: true, envelope: normal(r.envelope), body: hexOf(r.bodyBytes) } : r;
}

const POLICIES: Pick<PciPolicy, 'maxEnvelopeBytes' | 'maxTtlSeconds'>[] = [
  defaultPciPolicy,
  { maxEnvelopeBytes: 1 << 20, maxTtlSeconds: undefined },
  { maxEnvelopeBytes: 300, maxTtlSeconds: 600 },
];

/** Both paths on envelope bytes, under each policy: identical results, reasons included. */
function sameOnEnvelope(envelope: Uint8Array): void {
  for (const policy of POLICIES) {
    expect(normalResult(decodeEnvelope(envelope, policy))).toEqual(
      normalResult(oracleDecodeEnvelope(envelope, policy)),
    );
  }
}

function check(cls: string, body: Uint8Array, signature: Uint8Array = SIGNATURE): void {
  sameOnBody(cls, body);
  sameOnEnvelope(joinEnvelope(body, signature));
}

const SIGNATURE = GOLDEN_SIGNER.sign(new Uint8Array(32));

// ---------------------------------------------------------------------------
// Bodies as records, to be mutated structurally and written with padded varints
// ---------------------------------------------------------------------------

type Wire = 0 | 1 | 2 | 5;
interface Rec {
  field: number;
  wire: Wire;
  /** Varint or fixed value (as bits for fixed), bytes, or a submessage. */
  v: bigint | Uint8Array | Rec[];
  /** Extra (padding) bytes on the tag, the length, the varint value. */
  padTag?: number;
  padLen?: number;
  padValue?: number;
}

function varint(n: bigint, pad = 0): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, n);
  do {
    out.push(Number(x & 0x7fn) | (x >= 0x80n ? 0x80 : 0));
    x >>= 7n;
  } while (x > 0n);
  if (pad > 0) {
    out[out.length - 1]! |= 0x80;
    for (let i = 1; i < pad; i++) out.push(0x80);
    out.push(0);
  }
  return out;
}

function fixed(bits: bigint, bytes: number): number[] {
  return Array.from({ length: bytes }, (_, i) => Number((BigInt.asUintN(64, bits) >> BigInt(8 * i)) & 0xffn));
}

function write(recs: Rec[]): Uint8Array {
  const out: number[] = [];
  for (const r of recs) {
    out.push(...varint(BigInt((r.field << 3) | r.wire), r.padTag));
    if (r.wire === 0) out.push(...varint(r.v as bigint, r.padValue));
    else if (r.wire === 1) out.push(...fixed(r.v as bigint, 8));
    else if (r.wire === 5) out.push(...fixed(r.v as bigint, 4));
    else {
      const content = Array.isArray(r.v) ? write(r.v) : (r.v as Uint8Array);
      out.push(...varint(BigInt(content.length), r.padLen), ...content);
    }
  }
  return Uint8Array.from(out);
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const doubleBits = (x: number): bigint => {
  F64[0] = x;
  return U64[0]!;
};
const ascii = (s: string) => new TextEncoder().encode(s);

/** The records encodeBody writes for valid fields (the test of that is below). */
function recordsOf(f: EnvelopeFields): Rec[] {
  const payload: Rec[] = [{ field: 1, wire: 2, v: ascii(f.payload.contentType) }];
  if (f.payload.data.length > 0) payload.push({ field: 2, wire: 2, v: f.payload.data });
  const recs: Rec[] = [
    { field: 1, wire: 0, v: BigInt(AGENT_TYPE_NAMES.indexOf(f.agentType) + 1) },
    { field: 2, wire: 2, v: payload },
    { field: 3, wire: 2, v: f.senderPublicKey },
    { field: 4, wire: 0, v: BigInt(f.timestampMs) },
    { field: 5, wire: 0, v: BigInt(f.ttlSeconds) },
  ];
  if (f.ihsanScore !== 0) recs.push({ field: 6, wire: 1, v: doubleBits(f.ihsanScore) });
  if (f.snrScore !== 0) recs.push({ field: 7, wire: 1, v: doubleBits(f.snrScore) });
  recs.push({ field: 8, wire: 2, v: f.nonce });
  return recs;
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const EDGE_SCORES = [0, 1, Number.MIN_VALUE, 2 ** -1074 * 3, 0.5, 0.97, 1 - Number.EPSILON / 2];
const validScore = fc
  .oneof(fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...EDGE_SCORES))
  .map((x) => (Object.is(x, -0) ? 0 : x));

const validFields: fc.Arbitrary<EnvelopeFields> = fc.record({
  agentType: fc.constantFrom(...AGENT_TYPE_NAMES),
  payload: fc.record({
    contentType: fc.oneof(
      fc.stringMatching(/^[\x20-\x7e]{1,40}$/),
      fc.stringMatching(/^[\x20-\x7e]{120,255}$/),
      fc.constantFrom('a', '~', ' ', 'a'.repeat(127), 'b'.repeat(128), 'c'.repeat(255)),
    ),
    data: fc.oneof(
      { weight: 30, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      // 3-byte payload lengths
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 16_300, maxLength: 16_400 }) },
    ),
  }),
  senderPublicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  timestampMs: fc.oneof(
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: T0 - 1_000_000, max: T0 + 1_000_000 }),
    fc.constantFrom(1, 127, 128, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER),
  ),
  ttlSeconds: fc.oneof(
    fc.integer({ min: 1, max: 0xffff_ffff }),
    fc.integer({ min: 1, max: 100_000 }),
    fc.constantFrom(1, 127, 128, 86_400, 86_401, 2 ** 28 - 1, 2 ** 28, 0xffff_ffff),
  ),
  ihsanScore: validScore,
  snrScore: validScore,
  nonce: fc.uint8Array({ minLength: 16, maxLength: 64 }),
});

/** Values that break a rule, or are a field's default, or sit at an edge, by field. */
const oddValue = (field: number): fc.Arbitrary<Rec> => {
  switch (field) {
    case 1:
    case 4:
    case 5:
      return fc
        .oneof(
          fc.constantFrom(0n, 1n, 2n, 3n, 4n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n),
          fc.constantFrom(2n ** 56n, 2n ** 63n, 2n ** 64n - 1n),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        )
        .map((v) => ({ field, wire: 0, v }));
    case 6:
    case 7:
      return fc
        .oneof(
          fc
            .constantFrom(
              0,
              -0,
              Number.NaN,
              1,
              1 + Number.EPSILON,
              -1,
              Number.POSITIVE_INFINITY,
              Number.MIN_VALUE,
              -Number.MIN_VALUE,
            )
            .map(doubleBits),
          fc.double().map(doubleBits),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.constantFrom(0x7ff8000000000001n, 0xfff8000000000000n),
        )
        .map((v) => ({ field, wire: 1, v }));
    case 2:
      return fc
        .oneof(
          fc.constant([] as Rec[]),
          fc.uint8Array({ maxLength: 6 }).map((b) => [{ field: 1, wire: 2 as const, v: b }]),
          fc.string({ maxLength: 4 }).map((s) => [{ field: 1, wire: 2 as const, v: ascii(s) }]),
        )
        .map((v) => ({ field, wire: 2, v }));
    default:
      return fc
        .oneof(
          fc.uint8Array({ maxLength: 70 }),
          fc.constantFrom(new Uint8Array(0), new Uint8Array(32), new Uint8Array(16)),
        )
        .map((v) => ({ field, wire: 2, v }));
  }
};

/** A field the schema does not have (at the top level, or in the payload when `inPayload`). */
const unknownRec = (inPayload: boolean): fc.Arbitrary<Rec> =>
  fc
    .record({
      field: fc.oneof(fc.integer({ min: inPayload ? 3 : 9, max: 15 }), fc.integer({ min: 16, max: 2 ** 29 - 1 })),
      wire: fc.constantFrom<Wire>(0, 1, 2, 5),
      n: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      b: fc.uint8Array({ maxLength: 10 }),
    })
    .map(({ field, wire, n, b }) => ({ field, wire, v: wire === 2 ? b : wire === 5 ? n & 0xffff_ffffn : n }));

type Mutation = (recs: Rec[]) => Rec[];

/** One structural change to a list of records (`inPayload`: the payload's). */
const mutation = (inPayload: boolean): fc.Arbitrary<Mutation> =>
  fc.oneof(
    // duplicate a field, the copy anywhere
    fc.tuple(fc.nat(), fc.nat()).map(
      ([i, j]): Mutation =>
        (r) => {
          if (r.length === 0) return r;
          const out = r.slice();
          out.splice(j % (r.length + 1), 0, structuredClone(r[i % r.length]!));
          return out;
        },
    ),
    // drop a field
    fc.nat().map(
      (i): Mutation =>
        (r) =>
          r.filter((_, k) => k !== i % Math.max(1, r.length)),
    ),
    // swap two fields (out of order)
    fc.tuple(fc.nat(), fc.nat()).map(
      ([i, j]): Mutation =>
        (r) => {
          if (r.length < 2) return r;
          const out = r.slice();
          const a = i % r.length;
          const b = j % r.length;
          [out[a], out[b]] = [out[b]!, out[a]!];
          return out;
        },
    ),
    // an unknown field anywhere
    fc.tuple(unknownRec(inPayload), fc.nat()).map(
      ([u, j]): Mutation =>
        (r) => {
          const out = r.slice();
          out.splice(j % (r.length + 1), 0, u);
          return out;
        },
    ),
    // a known field with an odd value (a default, an edge, a broken rule), replacing or added
    fc
      .tuple(
        inPayload
          ? fc.oneof(
              fc
                .constantFrom(
                  new Uint8Array(0),
                  ascii('x'),
                  ascii('a'.repeat(256)),
                  Uint8Array.of(0x61, 0xff),
                  Uint8Array.of(0x1f),
                  Uint8Array.of(0x7f),
                  ascii('é'),
                )
                .map((v) => ({ field: 1, wire: 2 as Wire, v })),
              fc.uint8Array({ maxLength: 3 }).map((v) => ({ field: 2, wire: 2 as Wire, v })),
            )
          : fc.integer({ min: 1, max: 8 }).chain(oddValue),
        fc.boolean(),
        fc.nat(),
      )
      .map(
        ([odd, replace, j]): Mutation =>
          (r) => {
            const out = r.slice();
            const k = out.findIndex((x) => x.field === odd.field);
            if (replace && k >= 0) out[k] = odd;
            else out.splice(j % (r.length + 1), 0, odd);
            return out;
          },
      ),
    // a known field with another wire type
    fc.tuple(fc.nat(), fc.constantFrom<Wire>(0, 1, 2, 5), fc.bigInt({ min: 0n, max: 2n ** 32n })).map(
      ([i, wire, n]): Mutation =>
        (r) => {
          if (r.length === 0) return r;
          const out = r.slice();
          const k = i % r.length;
          out[k] = { field: out[k]!.field, wire, v: wire === 2 ? Uint8Array.of(1, 2, 3) : n };
          return out;
        },
    ),
    // a padded (non-minimal) varint: the tag, the length or the value
    fc.tuple(fc.nat(), fc.constantFrom('padTag', 'padLen', 'padValue'), fc.integer({ min: 1, max: 4 })).map(
      ([i, which, by]): Mutation =>
        (r) => {
          if (r.length === 0) return r;
          const out = r.slice();
          const k = i % r.length;
          out[k] = { ...out[k]!, [which]: by };
          return out;
        },
    ),
  );

/** Applies 1 to 3 mutations, each to the body's records or to the payload's. */
const mutatedBody = fc
  .tuple(validFields, fc.array(fc.tuple(fc.boolean(), mutation(false), mutation(true)), { minLength: 1, maxLength: 3 }))
  .map(([f, ms]) => {
    let recs = recordsOf(f);
    for (const [inPayload, top, sub] of ms) {
      if (!inPayload) recs = top(recs);
      else {
        const k = recs.findIndex((r) => r.field === 2 && Array.isArray(r.v));
        if (k >= 0) recs[k] = { ...recs[k]!, v: sub(recs[k]!.v as Rec[]) };
      }
    }
    return write(recs);
  });

const validBody = validFields.map(encodeBody);

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe('the strict reader accepts exactly what decode + checkFields + re-encode accepted, with the same fields', () => {
  it('random valid fields: encodeBody writes what the records say, and both paths read it back (4,000)', () => {
    fc.assert(
      fc.property(validFields, (f) => {
        expect(checkFields(f)).toBeNull();
        const body = encodeBody(f);
        expect(hexOf(write(recordsOf(f)))).toBe(hexOf(body));
        check('valid', body);
        const got = readCanonicalBody(body);
        expect(got === null ? null : normal(got)).toEqual(normal(f));
      }),
      { numRuns: 4_000 },
    );
  });

  it('random well-typed fields, valid or not (encodeBody of them) (6,000)', () => {
    const anyScore = fc.oneof(fc.double(), validScore, fc.constantFrom(-0, Number.NaN, 1 + Number.EPSILON));
    const arb = fc.record({
      agentType: fc.constantFrom(...AGENT_TYPE_NAMES),
      payload: fc.record({
        contentType: fc.oneof(fc.stringMatching(/^[\x20-\x7e]{1,20}$/), fc.string({ maxLength: 300, size: 'max' })),
        data: fc.uint8Array({ maxLength: 100 }),
      }),
      senderPublicKey: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 })),
      timestampMs: fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 1)),
      ttlSeconds: fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 86_401)),
      ihsanScore: anyScore,
      snrScore: anyScore,
      nonce: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.uint8Array({ maxLength: 80 })),
    });
    fc.assert(
      fc.property(arb, (f) => check('fields', encodeBody(f))),
      { numRuns: 6_000 },
    );
  });

  it('structural mutations: duplicated, dropped, swapped, unknown fields, wrong wire types, explicit defaults, padded varints, edge values (20,000)', () => {
    fc.assert(
      fc.property(mutatedBody, (body) => check('structural', body)),
      { numRuns: 20_000 },
    );
  });

  it('byte mutations of valid bodies: bit flips, truncations, insertions, deletions (20,000)', () => {
    const byteMutation = fc.oneof(
      fc
        .tuple(
          fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
          fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 3, maxLength: 3 }),
        )
        .map(([ps, bits]) => (b: Uint8Array) => {
          const out = b.slice();
          ps.forEach((p, i) => {
            if (out.length > 0) out[p % out.length]! ^= 1 << bits[i]!;
          });
          return out;
        }),
      fc.nat().map((n) => (b: Uint8Array) => b.slice(0, n % (b.length + 1))),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 9 })).map(([p, extra]) => (b: Uint8Array) => {
        const at = p % (b.length + 1);
        return concat(b.subarray(0, at), extra, b.subarray(at));
      }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 9 })).map(([p, n]) => (b: Uint8Array) => {
        const at = p % (b.length + 1);
        return concat(b.subarray(0, at), b.subarray(at + n));
      }),
    );
    fc.assert(
      fc.property(fc.oneof(validBody, fc.constant(rawBody())), byteMutation, (body, m) => check('bytes', m(body))),
      { numRuns: 20_000 },
    );
  });

  it('random bytes, bare and behind a plausible start (10,000)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((b) => concat(Uint8Array.of(0x08, 0x02, 0x12), b)),
          fc.uint8Array({ maxLength: 200 }).map((b) => concat(rawBody().subarray(0, 70), b)),
        ),
        (body) => check('random', body),
      ),
      { numRuns: 10_000 },
    );
  });

  it('whole envelopes with any signature length, and the reader on a view inside a larger buffer', () => {
    fc.assert(
      fc.property(validBody, fc.uint8Array({ maxLength: 70 }), fc.nat(), (body, sig, pad) => {
        sameOnEnvelope(joinEnvelope(body, sig));
        const backing = new Uint8Array(body.length + 2 * (pad % 9));
        backing.set(body, pad % 9);
        const view = backing.subarray(pad % 9, (pad % 9) + body.length);
        sameOnBody('view', view);
        // Bytes past the view's end are not read: a canonical body followed by junk
        // in the same buffer is still the canonical body.
        backing.fill(0x42, (pad % 9) + body.length);
        expect(readCanonicalBody(view)).not.toBeNull();
      }),
      { numRuns: 2_000 },
    );
  });

  afterAll(() => {
    // Every mutation class reached both verdicts, so none is vacuous (random bytes are never canonical).
    const [validOk, validRefused] = outcomes.get('valid') ?? [0, 0];
    expect(validOk).toBeGreaterThan(0);
    expect(validRefused).toBe(0);
    expect(outcomes.get('random')?.[1]).toBeGreaterThan(0);
    for (const cls of ['fields', 'structural', 'bytes']) {
      const [ok, refused] = outcomes.get(cls) ?? [0, 0];
      expect({ cls, ok: ok > 0, refused: refused > 0 }).toEqual({ cls, ok: true, refused: true });
    }
    if (process.env['FUZZ_STATS']) console.log(Object.fromEntries(outcomes));
  });
});
