import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, LockError } from '../lock.ts';
import { useTempDirs } from './helpers.ts';

describe('data dir lock', () => {
  const tmp = useTempDirs();
  const file = () => join(tmp(), 'bizra.lock');

  it('is exclusive while held and free after release', () => {
    const path = file();
    const lock = acquireLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    expect(() => acquireLock(path)).toThrow(LockError);
    expect(() => acquireLock(path)).toThrow(new RegExp(`another bizra daemon \\(pid ${process.pid}`));
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireLock(path).release();
  });

  it('takes over a lock whose process is gone', () => {
    const path = file();
    // A pid that certainly exited: a finished child's.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    writeFileSync(path, JSON.stringify({ pid: deadPid, token: 'x', since: 'then' }));
    const lock = acquireLock(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('treats a garbled lock file as stale', () => {
    const path = file();
    writeFileSync(path, 'garbage');
    acquireLock(path).release();
  });

  it('release leaves a lock taken over by someone else alone', () => {
    const path = file();
    const lock = acquireLock(path);
    writeFileSync(path, JSON.stringify({ pid: process.pid, token: 'someone-else', since: 'now' }));
    lock.release();
    expect(existsSync(path)).toBe(true);
  });
});
