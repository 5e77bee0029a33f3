/**
 * The schema against the reference compiler: protoc (Debian's protobuf-compiler) must
 * compile proto/bizra.proto, decode our envelopes, and re-encode them to the very same
 * bytes. protoc's C++ serializer writes fields in number order and omits proto3
 * defaults, so a byte-identical round trip shows our canonical encoding is the standard
 * one, not a protobufjs peculiarity. Skipped, saying why, where protoc is not installed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signEnvelope } from '../pci/sign.ts';
import { encodeSubmitResponse } from '../pci/submit-response.ts';
import { fields, GOLDEN_SEED, hex } from './helpers.ts';
import { PROTOC_MISSING, protoc, protocAvailable } from './protoc-runner.ts';

describe('protoc', () => {
  it('compiles proto/bizra.proto', (ctx) => {
    ctx.skip(!protocAvailable, PROTOC_MISSING);
    expect(() => protoc(['--descriptor_set_out=/dev/null'], '')).not.toThrow();
  });

  it('decodes the saved golden envelope (protoc --decode=bizra.v1.Envelope)', (ctx) => {
    ctx.skip(!protocAvailable, PROTOC_MISSING);
    const bin = readFileSync(new URL('./fixtures/envelope.bin', import.meta.url));
    const text = protoc(['--decode=bizra.v1.Envelope'], bin).toString();
    for (const line of [
      'agent_type: MODEL',
      'content_type: "application/json"',
      'data: "{\\"claim\\":\\"water is wet\\",\\"confidence\\":0.99}"',
      'timestamp_ms: 1767225600000',
      'ttl_seconds: 300',
      'ihsan_score: 0.97',
      'snr_score: 0.9',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^signature: "/m);
  });

  const cases = {
    golden: fields(),
    'zero scores, empty data (defaults omitted)': fields({
      ihsanScore: 0,
      snrScore: 0,
      payload: { contentType: 'x', data: new Uint8Array() },
    }),
    'USER, extreme values': fields({
      agentType: 'USER',
      timestampMs: Number.MAX_SAFE_INTEGER,
      ttlSeconds: 0xffff_ffff,
      ihsanScore: 1,
      snrScore: Number.MIN_VALUE,
      nonce: new Uint8Array(64).fill(0xff),
    }),
    'SOVEREIGN, 100 KiB payload': fields({
      agentType: 'SOVEREIGN',
      payload: { contentType: 'application/octet-stream', data: new Uint8Array(100 * 1024).map((_, i) => i) },
      ihsanScore: 0.1 + 0.2,
    }),
  };
  for (const [name, f] of Object.entries(cases)) {
    it(`re-encodes our envelope byte for byte: ${name}`, (ctx) => {
      ctx.skip(!protocAvailable, PROTOC_MISSING);
      const { bytes } = signEnvelope(f, GOLDEN_SEED);
      const text = protoc(['--decode=bizra.v1.Envelope'], bytes);
      const again = protoc(['--encode=bizra.v1.Envelope'], text);
      expect(hex(again)).toBe(hex(bytes));
    });
  }

  it('decodes PciSubmitResponse both ways', (ctx) => {
    ctx.skip(!protocAvailable, PROTOC_MISSING);
    const accepted = encodeSubmitResponse({ ok: true, id: new Uint8Array(32).fill(0xab) });
    expect(protoc(['--decode=bizra.v1.PciSubmitResponse'], accepted).toString()).toMatch(/^accepted_id: "(\\253){32}"/);
    const rejected = encodeSubmitResponse({ ok: false, code: 'R002', reason: 'bad signature' });
    const text = protoc(['--decode=bizra.v1.PciSubmitResponse'], rejected).toString();
    expect(text).toContain('code: "R002"');
    expect(text).toContain('reason: "bad signature"');
    expect(hex(protoc(['--encode=bizra.v1.PciSubmitResponse'], text))).toBe(hex(rejected));
  });
});
