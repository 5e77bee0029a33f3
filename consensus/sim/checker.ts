/**
 * The simulator's safety checker. It is told what every correct replica executes and
 * says so, naming the replicas and the sequence number, the moment two disagree. It can
 * fail: the coalition scenario (more than f replicas sharing keys) must make it.
 *
 * Checked: (1) agreement: no two correct replicas execute different batches at one
 * sequence number; (2) order: each replica executes sequence numbers one after another
 * (or jumps by a verified state transfer); (3) exactly once: no replica executes a
 * client's request twice; (4) durability: a replica restarted from its log has executed
 * at least what it had executed before the crash.
 */
import type { PbftCommitted } from '../pbft/output.ts';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export class SafetyChecker {
  /** seq -> [batch digest, the node that executed it first]. */
  readonly #decided = new Map<number, [string, string]>();
  readonly #next = new Map<string, number>();
  readonly #ran = new Map<string, Set<string>>();
  #violation: string | null = null;
  executions = 0;

  get violation(): string | null {
    return this.#violation;
  }

  #fail(message: string): void {
    if (this.#violation === null) this.#violation = message;
  }

  /** `node` (a correct replica) executed `c`. */
  committed(node: string, c: PbftCommitted): void {
    this.executions++;
    const digest = hex(c.digest);
    const held = this.#decided.get(c.seq);
    if (held === undefined) this.#decided.set(c.seq, [digest, node]);
    else if (held[0] !== digest) {
      this.#fail(
        `agreement: ${held[1]} and ${node} executed different batches at sequence ${c.seq} (${held[0].slice(0, 12)} vs ${digest.slice(0, 12)})`,
      );
    }
    const expected = this.#next.get(node) ?? 1;
    if (c.seq !== expected) this.#fail(`order: ${node} executed ${c.seq} when ${expected} was next`);
    this.#next.set(node, c.seq + 1);
    let ran = this.#ran.get(node);
    if (ran === undefined) {
      ran = new Set();
      this.#ran.set(node, ran);
    }
    for (const r of c.requests) {
      const key = `${hex(r.client)}:${r.timestamp}`;
      if (ran.has(key)) this.#fail(`exactly-once: ${node} executed request ${key.slice(0, 12)}… twice`);
      ran.add(key);
    }
  }

  /** `node` jumped to `seq` by a state transfer: its next execution is seq + 1. */
  transferred(node: string, seq: number): void {
    const expected = this.#next.get(node) ?? 1;
    if (seq + 1 < expected) this.#fail(`order: ${node} transferred back to ${seq} after executing ${expected - 1}`);
    this.#next.set(node, seq + 1);
  }

  /** `node` restarted from its log with `lastExecuted`; before the crash it had executed `before`. */
  recovered(node: string, lastExecuted: number, before: number): void {
    if (lastExecuted < before) {
      this.#fail(`durability: ${node} recovered to ${lastExecuted} but had executed ${before} before the crash`);
    }
    this.#next.set(node, lastExecuted + 1);
  }

  /** A client accepted a result that is not the one its request must produce. */
  wrongResult(detail: string): void {
    this.#fail(`client: ${detail}`);
  }

  /** The liveness phase ended without convergence. */
  liveness(detail: string): void {
    this.#fail(`liveness: ${detail}`);
  }
}
