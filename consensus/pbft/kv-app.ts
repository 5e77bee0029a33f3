/**
 * A small key-value application for tests and the simulator. Operations and results are
 * UTF-8 JSON: {"op":"put","key":k,"value":v} -> {"ok":true,"previous":v|null},
 * {"op":"get","key":k} -> {"ok":true,"value":v|null}, {"op":"del","key":k} ->
 * {"ok":true,"existed":bool}; anything else -> {"ok":false,"error":...}. The snapshot is
 * the JSON array of [key, value] pairs sorted by key, so equal states give equal bytes.
 */
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import type { PbftApp } from './app.ts';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export type KvOperation =
  | { op: 'put'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'del'; key: string };

export function encodeKvOperation(op: KvOperation): Uint8Array {
  return utf8.encode(JSON.stringify(op));
}

/**
 * A result's UTF-8 bytes, from Node's Buffer pool (slices of shared 8 KiB slabs) as a
 * plain Uint8Array. Every replica makes one per request it executes; TextEncoder gave
 * each its own ArrayBuffer, mallocked and swept by the collector. The JSON is written
 * out by hand for the three fixed shapes: the same bytes JSON.stringify gives for the
 * object, without making it.
 */
function result(json: string): Uint8Array {
  const b = Buffer.from(json, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function parse(bytes: Uint8Array): KvOperation | string {
  let o: unknown;
  try {
    o = JSON.parse(fromUtf8.decode(bytes));
  } catch {
    return 'operation is not UTF-8 JSON';
  }
  if (typeof o !== 'object' || o === null) return 'operation is not an object';
  const { op, key, value } = o as Record<string, unknown>;
  if (typeof key !== 'string') return 'key must be a string';
  if (op === 'get' || op === 'del') return { op, key };
  if (op === 'put') return typeof value === 'string' ? { op, key, value } : 'value must be a string';
  return 'op must be put, get or del';
}

export class KvApp implements PbftApp {
  readonly #data = new Map<string, string>();

  get(key: string): string | undefined {
    return this.#data.get(key);
  }

  get size(): number {
    return this.#data.size;
  }

  apply(requests: readonly PbftRequest[]): Uint8Array[] {
    return requests.map((r) => {
      const op = parse(r.operation);
      if (typeof op === 'string') return result(JSON.stringify({ ok: false, error: op }));
      const previous = this.#data.get(op.key) ?? null;
      if (op.op === 'put') {
        this.#data.set(op.key, op.value);
        return result(`{"ok":true,"previous":${JSON.stringify(previous)}}`);
      }
      if (op.op === 'del') {
        this.#data.delete(op.key);
        return result(previous === null ? '{"ok":true,"existed":false}' : '{"ok":true,"existed":true}');
      }
      return result(`{"ok":true,"value":${JSON.stringify(previous)}}`);
    });
  }

  snapshot(): Uint8Array {
    const entries = [...this.#data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return utf8.encode(JSON.stringify(entries));
  }

  restore(snapshot: Uint8Array): void {
    let entries: unknown;
    try {
      entries = JSON.parse(fromUtf8.decode(snapshot));
    } catch {
      throw new TypeError('kv snapshot is not UTF-8 JSON');
    }
    if (
      !Array.isArray(entries) ||
      !entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
    ) {
      throw new TypeError('kv snapshot must be an array of [key, value] string pairs');
    }
    this.#data.clear();
    for (const [k, v] of entries as [string, string][]) this.#data.set(k, v);
  }
}
