/**
 * One daemon per data dir. The lock file holds the owner's pid and a token; a
 * lock whose pid is no longer running is stale (a crash or kill -9) and is taken
 * over. LevelDB's own LOCK file stays the last line of defence.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { LockError } from './errors.ts';

export { LockError };

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface LockContent {
  pid: number;
  token: string;
  since: string;
}

export function acquireLock(path: string, now: Date = new Date()): DataDirLock {
  const content: LockContent = { pid: process.pid, token: randomUUID(), since: now.toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(content)}\n`);
      } finally {
        closeSync(fd);
      }
      return { path, release: () => releaseIfOurs(path, content.token) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LockError(`cannot create lock file ${path}: ${(err as Error).message}`);
      }
    }
    const holder = readLock(path);
    if (holder !== undefined && isAlive(holder.pid)) {
      throw new LockError(
        `data dir is in use: another bizra daemon (pid ${holder.pid}, since ${holder.since}) holds ${path}; stop it or use a different --data-dir`,
      );
    }
    // Stale: the holder died without releasing it. Remove and try once more.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LockError(`cannot remove stale lock file ${path}: ${(err as Error).message}`);
      }
    }
  }
  throw new LockError(`could not acquire ${path}: another process keeps taking it`);
}

function readLock(path: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.token === 'string') {
      return { pid: parsed.pid, token: parsed.token, since: String(parsed.since ?? 'unknown') };
    }
  } catch {
    // Unreadable or half-written: treat as stale.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(path: string, token: string): void {
  const holder = readLock(path);
  if (holder?.token !== token) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone; nothing to release.
  }
}
