/** Each reject code reached by a crafted envelope, the order of the checks, and the replay stage. */
import { describe, expect, it } from 'vitest';
import { joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import type { EnvelopeFields } from '../pci/fields.ts';
import { defaultPciPolicy, resolvePciPolicy } from '../pci/policy.ts';
import { REJECT_CODES, type RejectCode } from '../pci/reject-codes.ts';
import { ReplayCache } from '../pci/replay-cache.ts';
import { signEnvelope } from '../pci/sign.ts';
import { decodeEnvelope, EnvelopeVerifier, type VerifyResult } from '../pci/verify.ts';
import {
  concat,
  fieldBytes,
  fields,
  GOLDEN_SEED,
  GOLDEN_SIGNER,
  goldenFields,
  hex,
  rawBody,
  removeField,
  replaceField,
  signRawBody,
  T0,
  unhex,
  writer,
} from './helpers.ts';

const NOW = T0 + 1000;
const golden = signEnvelope(goldenFields(), GOLDEN_SEED);

function verify(bytes: Uint8Array, now = NOW, policy = {}): VerifyResult {
  return new EnvelopeVerifier(policy).verify(bytes, now);
}

function rejects(bytes: Uint8Array, code: RejectCode, reason?: RegExp, now = NOW, policy = {}): void {
  const r = verify(bytes, now, policy);
  expect(r.ok ? 'accepted' : `${r.code}: ${r.reason}`).toMatch(new RegExp(`^${code}: `));
  if (reason && !r.ok) expect(r.reason).toMatch(reason);
}

const raw = (over: Partial<EnvelopeFields>) => signRawBody(rawBody(over));

describe('accepts', () => {
  it('a valid envelope, with its id, expiry and decoded fields', () => {
    const r = verify(golden.bytes);
    if (!r.ok) throw new Error(`${r.code} ${r.reason}`);
    expect(r.idHex).toBe(golden.idHex);
    expect(hex(r.id)).toBe(golden.idHex);
    expect(r.expiresAtMs).toBe(T0 + 300_000);
    expect(r.envelope.agentType).toBe('MODEL');
    expect(hex(r.envelope.senderPublicKey)).toBe(hex(GOLDEN_SIGNER.publicKey));
    expect(hex(r.envelope.signature)).toBe(hex(golden.envelope.signature));
    expect(new TextDecoder().decode(r.envelope.payload.data)).toContain('water is wet');
    expect(r.envelope.ihsanScore).toBe(0.97);
  });

  it('each agent type, zero-length data, scores exactly at the thresholds, nonce 16 and 64 bytes', () => {
    for (const agentType of ['USER', 'MODEL', 'SOVEREIGN'] as const) {
      expect(verify(signEnvelope(fields({ agentType }), GOLDEN_SEED).bytes).ok).toBe(true);
    }
    const edge = fields({
      payload: { contentType: 'a', data: new Uint8Array() },
      ihsanScore: 0.95,
      snrScore: 0.85,
      nonce: new Uint8Array(64),
    });
    expect(verify(signEnvelope(edge, GOLDEN_SEED).bytes).ok).toBe(true);
  });

  it('at both ends of the time window (inclusive)', () => {
    expect(verify(golden.bytes, T0 + 300_000).ok).toBe(true);
    expect(verify(golden.bytes, T0 - 30_000).ok).toBe(true);
  });
});

describe('R001 TTL_EXPIRED', () => {
  it('one millisecond after timestamp + ttl', () => {
    rejects(golden.bytes, 'R001', /expired 1 ms ago/, T0 + 300_001);
  });
});

describe('R007 FROM_FUTURE', () => {
  it('one millisecond beyond the allowed skew, which is configurable', () => {
    rejects(golden.bytes, 'R007', /30001 ms ahead/, T0 - 30_001);
    expect(verify(golden.bytes, T0 - 30_001, { maxFutureSkewMs: 60_000 }).ok).toBe(true);
    rejects(golden.bytes, 'R007', undefined, T0 - 1, { maxFutureSkewMs: 0 });
  });
});

describe('R002 INVALID_SIGNATURE', () => {
  it('a flipped signature bit', () => {
    const bad = golden.bytes.slice();
    bad[bad.length - 1]! ^= 0x01;
    rejects(bad, 'R002');
  });
  it('a body changed after signing', () => {
    const { body, signature } = splitEnvelope(golden.bytes);
    const changed = rawBody({ ihsanScore: 0.99 });
    expect(changed.length).toBe(body.length);
    rejects(joinEnvelope(changed, signature), 'R002');
  });
  it('signed by another key than senderPublicKey', () => {
    const other = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
    rejects(signRawBody(rawBody(), other), 'R002');
  });
  it('a signature over the body without the domain tag', () => {
    const body = rawBody();
    rejects(joinEnvelope(body, GOLDEN_SIGNER.sign(body)), 'R002');
  });
  it('a public key that is not a curve point', () => {
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    rejects(raw({ senderPublicKey: notAPoint }), 'R002');
  });
});

describe('R003 IHSAN_BELOW_THRESHOLD and R004 SNR_BELOW_THRESHOLD', () => {
  it('below the defaults (0.95, 0.85)', () => {
    rejects(signEnvelope(fields({ ihsanScore: 0.9499 }), GOLDEN_SEED).bytes, 'R003', /0.9499 is below 0.95/);
    rejects(signEnvelope(fields({ snrScore: 0.8499 }), GOLDEN_SEED).bytes, 'R004', /0.8499 is below 0.85/);
    rejects(signEnvelope(fields({ ihsanScore: 0, snrScore: 0 }), GOLDEN_SEED).bytes, 'R003');
  });
  it('thresholds are configurable', () => {
    const low = signEnvelope(fields({ ihsanScore: 0.5, snrScore: 0.5 }), GOLDEN_SEED).bytes;
    expect(verify(low, NOW, { ihsanThreshold: 0.5, snrThreshold: 0.5 }).ok).toBe(true);
    rejects(low, 'R004', undefined, NOW, { ihsanThreshold: 0.5, snrThreshold: 0.51 });
    rejects(golden.bytes, 'R003', undefined, NOW, { ihsanThreshold: 1 });
  });
});

describe('R006 REPLAYED', () => {
  it('the same envelope twice; recorded only once accepted', () => {
    const v = new EnvelopeVerifier();
    const low = signEnvelope(fields({ ihsanScore: 0.1 }), GOLDEN_SEED).bytes;
    expect(v.verify(low, NOW).ok).toBe(false);
    expect(v.replay.size).toBe(0);
    expect(v.verify(golden.bytes, NOW).ok).toBe(true);
    const again = v.verify(golden.bytes, NOW + 5000);
    expect(again.ok ? 'accepted' : again.code).toBe('R006');
    expect(again.ok ? '' : again.reason).toContain(golden.idHex);
  });
  it('a copy with another (valid) signature of the same body is a replay: the id excludes the signature', () => {
    const v = new EnvelopeVerifier();
    expect(v.verify(golden.bytes, NOW).ok).toBe(true);
    // Ed25519 is deterministic, so the only other valid form is a re-encoding; show the id
    // is computed from the body alone by re-joining the same parts.
    const { body, signature } = splitEnvelope(golden.bytes);
    const r = v.verify(joinEnvelope(body, signature.slice()), NOW);
    expect(r.ok ? 'accepted' : r.code).toBe('R006');
  });
  it('record: false checks without remembering; markSeen commits', () => {
    const v = new EnvelopeVerifier();
    const first = v.verify(golden.bytes, NOW, { record: false });
    expect(first.ok).toBe(true);
    expect(v.verify(golden.bytes, NOW, { record: false }).ok).toBe(true);
    expect(v.isSeen(golden.idHex, NOW)).toBe(false);
    if (!first.ok) return;
    v.markSeen(first.idHex, first.expiresAtMs, NOW);
    expect(v.isSeen(golden.idHex, NOW)).toBe(true);
    const r = v.verify(golden.bytes, NOW, { record: false });
    expect(r.ok ? 'accepted' : r.code).toBe('R006');
  });
  it('a shared replay cache is seen by every verifier using it', () => {
    const replay = new ReplayCache({ maxEntries: 10 });
    const a = new EnvelopeVerifier({}, { replay });
    const b = new EnvelopeVerifier({}, { replay });
    expect(a.verify(golden.bytes, NOW).ok).toBe(true);
    const r = b.verify(golden.bytes, NOW);
    expect(r.ok ? 'accepted' : r.code).toBe('R006');
  });
  it('after expiry the answer is R001, not R006', () => {
    const v = new EnvelopeVerifier();
    v.verify(golden.bytes, NOW);
    const r = v.verify(golden.bytes, T0 + 300_001);
    expect(r.ok ? 'accepted' : r.code).toBe('R001');
  });
});

describe('R005 MALFORMED_ENVELOPE', () => {
  it('size is checked before decoding, and the reason names it', () => {
    const big = new Uint8Array(1024 * 1024 + 1).fill(0xff);
    rejects(big, 'R005', /1048577 bytes; the limit is 1048576/);
    const r = verify(big);
    expect(!r.ok && r.local).toBe(true);
    const n = golden.bytes.length;
    rejects(golden.bytes, 'R005', new RegExp(`is ${n} bytes; the limit is ${n - 1}`), NOW, { maxEnvelopeBytes: n - 1 });
    expect(verify(golden.bytes, NOW, { maxEnvelopeBytes: golden.bytes.length }).ok).toBe(true);
  });

  it('wire layout: empty, garbage, truncated, trailing bytes, other or repeated envelope fields', () => {
    const { body, signature } = splitEnvelope(golden.bytes);
    const w = (f: (x: ReturnType<typeof writer>) => unknown) => {
      const x = writer();
      f(x);
      return x.finish();
    };
    rejects(new Uint8Array(), 'R005', /empty/);
    rejects(unhex('deadbeef'), 'R005');
    for (const n of [1, 2, 3, 100, golden.bytes.length - 65, golden.bytes.length - 1]) {
      rejects(golden.bytes.subarray(0, n), 'R005');
    }
    rejects(concat(golden.bytes, unhex('00')), 'R005', /1 bytes follow the signature/);
    rejects(
      w((x) => x.uint32(18).bytes(signature).uint32(10).bytes(body)),
      'R005',
      /must start with body \(field 1\), found field 2/,
    );
    rejects(
      w((x) => x.uint32(10).bytes(body).uint32(10).bytes(body).uint32(18).bytes(signature)),
      'R005',
    );
    rejects(
      w((x) => x.uint32(10).bytes(body).uint32(18).bytes(signature).uint32(18).bytes(signature)),
      'R005',
    );
    rejects(
      w((x) => x.uint32(10).bytes(body).uint32(18).bytes(signature).uint32(24).uint32(1)),
      'R005',
    );
    rejects(
      w((x) => x.uint32(10).bytes(body)),
      'R005',
      /signature \(field 2\) is missing/,
    );
    // body length as a padded (non-minimal) varint: 0x92 0x81 0x00 instead of 0x92 0x01
    rejects(concat(unhex('0a928100'), body, unhex('1240'), signature), 'R005', /not a minimal varint/);
    rejects(concat(unhex('0a9201'), body, unhex('92001240'), signature), 'R005', /tag is not a minimal varint/);
    rejects(concat(unhex('0a9201'), body, unhex('1280c0'), signature), 'R005');
    rejects(concat(unhex('0aff'), body), 'R005', /truncated|claims/);
  });

  it('signature of the wrong length', () => {
    const body = rawBody();
    rejects(
      joinEnvelope(body, GOLDEN_SIGNER.sign(body).subarray(0, 63)),
      'R005',
      /signature: must be 64 bytes, got 63/,
    );
    rejects(joinEnvelope(body, new Uint8Array(0)), 'R005', /signature: must be 64 bytes, got 0/);
  });

  it('each field rule, even when properly signed', () => {
    const cases: [Partial<EnvelopeFields>, RegExp][] = [
      [{ agentType: 'ROBOT' as never }, /agentType: must be one of USER, MODEL, SOVEREIGN/],
      [{ payload: { contentType: '', data: new Uint8Array() } }, /payload.contentType/],
      [{ payload: { contentType: 'é', data: new Uint8Array() } }, /payload.contentType/],
      [{ payload: { contentType: 'a\nb', data: new Uint8Array() } }, /payload.contentType/],
      [{ payload: { contentType: 'a'.repeat(256), data: new Uint8Array() } }, /payload.contentType/],
      [{ senderPublicKey: new Uint8Array(31) }, /senderPublicKey: must be 32 bytes, got 31/],
      [{ senderPublicKey: new Uint8Array(0) }, /senderPublicKey: must be 32 bytes, got 0/],
      [{ timestampMs: 0 }, /timestampMs/],
      [{ ttlSeconds: 0 }, /ttlSeconds: must be an integer from 1/],
      [{ ihsanScore: 1.0000001 }, /ihsanScore: 1.0000001 is outside \[0, 1\]/],
      [{ ihsanScore: -0.5 }, /ihsanScore/],
      [{ snrScore: Number.NaN }, /snrScore: must be a number, got NaN/],
      [{ snrScore: Number.POSITIVE_INFINITY }, /snrScore/],
      [{ nonce: new Uint8Array(15) }, /nonce: must be 16 to 64 bytes, got 15/],
      [{ nonce: new Uint8Array(65) }, /nonce: must be 16 to 64 bytes, got 65/],
      [{ nonce: new Uint8Array(0) }, /nonce/],
    ];
    for (const [over, reason] of cases) {
      // agentType 'ROBOT' has no wire number: encode it as unspecified (0) by hand.
      const bytes = over.agentType ? signRawBody(bodyWithAgent(0)) : raw(over);
      rejects(bytes, 'R005', reason);
    }
    rejects(signRawBody(bodyWithAgent(7)), 'R005', /got 7/);
  });

  it('a timestamp beyond 2^53 - 1 ms', () => {
    const body = rawBody();
    // Rewrite field 4 by hand: 2^53 needs protobufjs's Long path.
    const w = writer();
    w.uint32(32).uint64(2 ** 53);
    rejects(signRawBody(replaceField(body, 4, w.finish())), 'R005', /timestampMs: must be an integer/);
  });

  it("a ttl above this node's maxTtlSeconds (a local limit)", () => {
    const long = raw({ ttlSeconds: 86_401 });
    rejects(long, 'R005', /86401 exceeds this node's limit of 86400/);
    const r = verify(long);
    expect(!r.ok && r.local).toBe(true);
    expect(verify(long, NOW, { maxTtlSeconds: undefined }).ok).toBe(true);
  });

  it('no payload', () => {
    rejects(signRawBody(removeField(rawBody(), 2)), 'R005', /payload: missing/);
  });

  it('non-canonical bodies, each properly signed: unknown, duplicate, out-of-order fields and explicit defaults', () => {
    const body = rawBody();
    const unknown = concat(
      body,
      writer()
        .uint32((9 << 3) | 0)
        .uint32(1)
        .finish(),
    );
    rejects(signRawBody(unknown), 'R005', /not canonically encoded/);
    // Unknown field with a wire type protobufjs must skip (fixed32) and a group-free varint number.
    rejects(
      signRawBody(
        concat(
          body,
          writer()
            .uint32((100 << 3) | 5)
            .fixed32(7)
            .finish(),
        ),
      ),
      'R005',
    );
    // A known field number with the wrong wire type (ttl_seconds as fixed32).
    rejects(
      signRawBody(
        concat(
          removeField(body, 5),
          writer()
            .uint32((5 << 3) | 5)
            .fixed32(300)
            .finish(),
        ),
      ),
      'R005',
    );
    // Duplicates: last one wins in protobuf, so a decoder would see valid fields.
    rejects(signRawBody(concat(body, writer().uint32(40).uint32(300).finish())), 'R005', /not canonically/);
    const payloadField = fieldBytes(body, 2);
    rejects(signRawBody(concat(body, payloadField)), 'R005', /not canonically/);
    // Out of order: nonce (8) first.
    rejects(signRawBody(concat(fieldBytes(body, 8), removeField(body, 8))), 'R005', /not canonically/);
    // Explicit defaults: ihsan_score = 0 written out; empty data written out.
    const zero = rawBody({ ihsanScore: 0 });
    rejects(signRawBody(concat(zero, writer().uint32(49).double(0).finish())), 'R005');
    const w = writer();
    w.uint32(18).fork().uint32(10).string('x').uint32(18).bytes(new Uint8Array()).ldelim();
    rejects(signRawBody(replaceField(body, 2, w.finish())), 'R005', /not canonically/);
    // -0 written out (its bits are not zero, so protobuf writes it): refused by the score rule.
    rejects(signRawBody(concat(zero, writer().uint32(49).double(-0).finish())), 'R005', /-0/);
    // A padded varint inside the body (ttl_seconds = 300 as 3 bytes).
    rejects(signRawBody(replaceField(body, 5, unhex('28ac8200'))), 'R005', /not canonically/);
    // Invalid UTF-8 in content_type.
    const badUtf8 = writer();
    badUtf8.uint32(18).fork().uint32(10).bytes(unhex('61ff62')).ldelim();
    rejects(signRawBody(replaceField(body, 2, badUtf8.finish())), 'R005');
  });

  it('never throws on values that are not bytes', () => {
    const v = new EnvelopeVerifier();
    for (const x of [undefined, null, 'text', 42, {}, [1, 2, 3]]) {
      const r = v.verify(x as never, NOW);
      expect(r.ok ? 'accepted' : r.code).toBe('R005');
    }
    expect(() => v.verify(golden.bytes, Number.NaN)).toThrow(TypeError);
  });
});

describe('order of checks', () => {
  const low = (over: Partial<EnvelopeFields>) => signEnvelope(fields(over), GOLDEN_SEED).bytes;
  const breakSig = (b: Uint8Array) => {
    const c = b.slice();
    c[c.length - 1]! ^= 1;
    return c;
  };
  it('R005 before everything', () => {
    rejects(raw({ ttlSeconds: 0, ihsanScore: 0 }), 'R005', undefined, T0 + 10_000_000);
  });
  it('R007 and R001 before R002, R003, R004', () => {
    const all = breakSig(low({ ihsanScore: 0.1, snrScore: 0.1 }));
    rejects(all, 'R007', undefined, T0 - 60_000);
    rejects(all, 'R001', undefined, T0 + 600_000);
    rejects(all, 'R002');
  });
  it('R002 before R003 before R004', () => {
    rejects(low({ ihsanScore: 0.1, snrScore: 0.1 }), 'R003');
    rejects(low({ snrScore: 0.1 }), 'R004');
  });
  it('R006 last: a replayed envelope that is now expired is R001', () => {
    const v = new EnvelopeVerifier();
    v.verify(golden.bytes, NOW);
    const r = v.verify(golden.bytes, T0 + 300_001);
    expect(r.ok ? '' : r.code).toBe('R001');
  });
});

describe('policy and reject codes', () => {
  it('defaults as in the issue, and bad settings are refused', () => {
    expect(defaultPciPolicy).toMatchObject({
      ihsanThreshold: 0.95,
      snrThreshold: 0.85,
      maxFutureSkewMs: 30_000,
      maxEnvelopeBytes: 1_048_576,
    });
    expect(() => resolvePciPolicy({ ihsanThreshold: 1.5 })).toThrow(/ihsanThreshold/);
    expect(() => resolvePciPolicy({ snrThreshold: Number.NaN })).toThrow(/snrThreshold/);
    expect(() => resolvePciPolicy({ maxFutureSkewMs: -1 })).toThrow(/maxFutureSkewMs/);
    expect(() => resolvePciPolicy({ maxEnvelopeBytes: 0 })).toThrow(/maxEnvelopeBytes/);
    expect(() => resolvePciPolicy({ maxTtlSeconds: 0.5 })).toThrow(/maxTtlSeconds/);
    expect(() => new EnvelopeVerifier({ ihsanThreshold: -1 })).toThrow(RangeError);
  });
  it('the code table', () => {
    expect(Object.entries(REJECT_CODES).map(([c, v]) => `${c} ${v.name}`)).toEqual([
      'R001 TTL_EXPIRED',
      'R002 INVALID_SIGNATURE',
      'R003 IHSAN_BELOW_THRESHOLD',
      'R004 SNR_BELOW_THRESHOLD',
      'R005 MALFORMED_ENVELOPE',
      'R006 REPLAYED',
      'R007 FROM_FUTURE',
    ]);
  });
  it('decodeEnvelope alone reads stored bytes back', () => {
    const d = decodeEnvelope(golden.bytes, defaultPciPolicy);
    expect(d.ok && d.envelope.timestampMs).toBe(T0);
    expect(decodeEnvelope(new Uint8Array([1]), defaultPciPolicy).ok).toBe(false);
  });
});

function bodyWithAgent(agent: number): Uint8Array {
  const w = writer();
  if (agent !== 0) w.uint32(8).uint32(agent);
  return concat(w.finish(), removeField(rawBody(), 1));
}
