/** Health checks: each answers ok or not with a one-line detail, and /health is 200 only when all pass. */

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export type HealthCheck = () => Promise<CheckResult> | CheckResult;

export interface HealthReport {
  status: 'ok' | 'failing';
  checks: Record<string, CheckResult>;
  failing: string[];
}

/** Runs every check with a time limit; a check that throws or hangs fails with the reason. */
export async function runHealthChecks(checks: Record<string, HealthCheck>, timeoutMs = 2000): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name): Promise<CheckResult> => {
      const check = checks[name] as HealthCheck;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      try {
        return await Promise.race([Promise.resolve().then(check), timeout]);
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const out: Record<string, CheckResult> = {};
  names.forEach((name, i) => {
    out[name] = results[i] as CheckResult;
  });
  const failing = names.filter((n) => !out[n]?.ok);
  return { status: failing.length === 0 ? 'ok' : 'failing', checks: out, failing };
}
