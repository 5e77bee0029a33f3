/**
 * A budget of this thread's CPU time, for handing inputs to the replica in slices
 * (see consensus-service.ts). CPU time, not wall time: a validator sharing its cores with
 * many others is descheduled for most of any wall-clock slice.
 */

/** This thread's CPU time in microseconds (one getrusage system call). */
export function threadCpuMicros(): number {
  const u = process.threadCpuUsage();
  return u.user + u.system;
}

export interface SliceClocks {
  /** Wall clock in milliseconds (cheap: no system call). */
  wallMs(): number;
  /** This thread's CPU time in microseconds (a system call). */
  cpuMicros(): number;
}

const realClocks: SliceClocks = { wallMs: () => performance.now(), cpuMicros: threadCpuMicros };

/**
 * Whether this thread has used `budgetMicros` of CPU since start(), asking the kernel
 * only when it could have: a thread's CPU time never advances faster than the wall
 * clock (but for the kernel accounting it at scheduler ticks, which at worst lets a slice
 * run a tick long), so until the wall clock has covered what is left of the budget the
 * answer is no. Asking at every input (one getrusage each) was 1-2 % of a saturated validator's
 * CPU, more in a VM where system calls are dear; a slice now asks a few times.
 */
export class CpuSlice {
  readonly #budgetMicros: number;
  readonly #clocks: SliceClocks;
  #cpuStart = 0;
  /** Wall-clock time (ms) before which the budget cannot have been used. */
  #notBefore = 0;

  constructor(budgetMicros: number, clocks: SliceClocks = realClocks) {
    this.#budgetMicros = budgetMicros;
    this.#clocks = clocks;
  }

  start(): void {
    this.#cpuStart = this.#clocks.cpuMicros();
    this.#notBefore = this.#clocks.wallMs() + this.#budgetMicros / 1000;
  }

  spent(): boolean {
    const wall = this.#clocks.wallMs();
    if (wall < this.#notBefore) return false;
    const used = this.#clocks.cpuMicros() - this.#cpuStart;
    if (used >= this.#budgetMicros) return true;
    this.#notBefore = wall + (this.#budgetMicros - used) / 1000;
    return false;
  }
}
