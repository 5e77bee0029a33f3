/** Waiting for gossipsub meshes to form across a cluster. */
import type { BizraNode } from '../node/node.ts';

/** gossipsub's D_lo: below this a node's heartbeat grafts more mesh peers. */
const MESH_LOW = 4;

/**
 * Resolves once every node's mesh holds at least `min(MESH_LOW, its connections)`
 * peers (or `atLeast` when given), after `timeoutMs`, or when `signal` aborts;
 * tells which of the three it was.
 */
export async function waitForMeshes(
  nodes: readonly BizraNode[],
  opts: { timeoutMs: number; atLeast?: number; pollMs?: number; signal?: AbortSignal },
): Promise<'formed' | 'timeout' | 'aborted'> {
  const deadline = performance.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 100;
  const ready = (node: BizraNode) => {
    const want = opts.atLeast ?? Math.min(MESH_LOW, node.peers().length);
    return node.meshPeers() >= want;
  };
  for (;;) {
    if (opts.signal?.aborted) return 'aborted';
    if (nodes.every(ready)) return 'formed';
    const left = deadline - performance.now();
    if (left <= 0) return 'timeout';
    await sleep(Math.min(pollMs, left), opts.signal);
  }
}

/** setTimeout as a promise that also ends early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
