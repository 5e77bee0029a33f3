/** Runs one of scripts/*.ts in a child Node (this test's own), for the tests of the scripts' command lines. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/`name` with `args`; resolves with its exit code and output (never rejects). */
export function runScript(name: string, args: string[], timeoutMs = 60_000): Promise<ScriptRun> {
  const file = fileURLToPath(new URL(`../${name}`, import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
