/**
 * Running the `bizra` command as an operator does, for tests: real child processes with
 * every BIZRA_* variable removed from the environment, free ports, and daemons that are
 * waited for until they log that they started.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import { tempDir } from './helpers.ts';

export const BIN = fileURLToPath(new URL('../bin/bizra.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without BIZRA_* settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BIZRA_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs `bizra ...args` to completion (30 s at most). */
export function run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cleanEnv(env), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `bizra start ...args` (JSON logs) and resolves once it has logged that it started. */
export async function startDaemon(args: string[]): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'start', ...args, '--log-format', 'json'], { env: cleanEnv() });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('"msg":"node started"')) {
    if (child.exitCode !== null) throw new Error(`daemon exited early (${child.exitCode}): ${out}`);
    if (Date.now() > deadline) throw new Error(`daemon did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, output: () => out, exited };
}

/**
 * For a describe block of CLI tests: fresh data dirs (removed after the block) and a list
 * of daemons to push started ones onto (killed after each test).
 */
export function cliFixture(prefix: string): { dataDir: () => string; daemons: Daemon[] } {
  const dirs: Array<() => void> = [];
  const daemons: Daemon[] = [];
  afterEach(() => {
    for (const d of daemons.splice(0)) d.child.kill('SIGKILL');
  });
  afterAll(() => {
    for (const c of dirs.splice(0)) c();
  });
  const dataDir = () => {
    const t = tempDir(prefix);
    dirs.push(t.cleanup);
    return join(t.path, 'data');
  };
  return { dataDir, daemons };
}
