import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import { encodeKvOperation, KvApp, type KvOperation } from '../pbft/kv-app.ts';

const request = (operation: Uint8Array, timestamp = 1): PbftRequest => ({
  type: 'request',
  client: new Uint8Array(32),
  timestamp,
  operation,
  signature: new Uint8Array(64),
});

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** What the app answers, as JSON.stringify of the result object gives it (the format in kv-app.ts). */
function reference(ops: readonly KvOperation[]): string[] {
  const data = new Map<string, string>();
  return ops.map((op) => {
    const previous = data.get(op.key) ?? null;
    if (op.op === 'put') {
      data.set(op.key, op.value);
      return JSON.stringify({ ok: true, previous });
    }
    if (op.op === 'del') {
      data.delete(op.key);
      return JSON.stringify({ ok: true, existed: previous !== null });
    }
    return JSON.stringify({ ok: true, value: previous });
  });
}

describe('KvApp', () => {
  it('answers put, get and del with exactly the JSON of the result object, for any keys and values', () => {
    const op = fc.oneof(
      fc.record({
        op: fc.constant('put' as const),
        key: fc.string({ maxLength: 4 }),
        value: fc.string({ unit: 'grapheme', maxLength: 12 }),
      }),
      fc.record({ op: fc.constant('get' as const), key: fc.string({ maxLength: 4 }) }),
      fc.record({ op: fc.constant('del' as const), key: fc.string({ maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const results = new KvApp().apply(ops.map((o, i) => request(encodeKvOperation(o), i + 1)));
        expect(results.map(text)).toEqual(reference(ops));
        for (const r of results) expect(Object.getPrototypeOf(r)).toBe(Uint8Array.prototype);
      }),
    );
  });

  it('answers a bad operation with an error and changes nothing', () => {
    const app = new KvApp();
    const bad = [
      Uint8Array.of(0xff, 0xfe),
      new TextEncoder().encode('[1]'),
      new TextEncoder().encode('{"op":"put","key":"k"}'),
      new TextEncoder().encode('{"op":"inc","key":"k"}'),
      new TextEncoder().encode('{"op":"get","key":7}'),
    ];
    expect(app.apply(bad.map((b) => request(b))).map(text)).toEqual([
      '{"ok":false,"error":"operation is not UTF-8 JSON"}',
      '{"ok":false,"error":"key must be a string"}',
      '{"ok":false,"error":"value must be a string"}',
      '{"ok":false,"error":"op must be put, get or del"}',
      '{"ok":false,"error":"key must be a string"}',
    ]);
    expect(app.size).toBe(0);
  });

  it('gives each result its own bytes: results of one batch do not overlap', () => {
    const ops: KvOperation[] = Array.from({ length: 50 }, (_, i) => ({
      op: 'put',
      key: `k${i}`,
      value: 'v'.repeat(i),
    }));
    const results = new KvApp().apply(ops.map((o, i) => request(encodeKvOperation(o), i + 1)));
    expect(results.map(text)).toEqual(reference(ops));
    // Results are slices of shared slabs: fill each with its own byte, in order; had two
    // overlapped, the later fill would show in the earlier.
    results.forEach((r, i) => {
      r.fill(i + 1);
    });
    results.forEach((r, i) => {
      expect(r.every((b) => b === i + 1)).toBe(true);
    });
  });
});
