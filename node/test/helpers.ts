import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { defaultConfig, type NodeConfig } from '../config/schema.ts';
import { generateIdentity } from '../identity.ts';
import { createLogger, type Logger } from '../log.ts';
import { BizraNode } from '../node.ts';

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = 'bizra-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function silentLogger(): Logger {
  return createLogger({ level: 'silent', format: 'json' });
}

/**
 * Fresh temp dirs for the tests of the calling suite, removed after each test.
 * Returns a function that makes one and gives its path.
 */
export function useTempDirs(prefix = 'bizra-test-'): () => string {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return () => {
    const dir = tempDir(prefix);
    cleanups.push(dir.cleanup);
    return dir.path;
  };
}

/** A loopback config with ephemeral ports. */
export function testConfig(tune?: (c: NodeConfig) => void): NodeConfig {
  const config = defaultConfig();
  config.profile = 'testnet';
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0'];
  config.api.port = 0;
  tune?.(config);
  return config;
}

export async function startTestNode(dataDir: string, tune?: (c: NodeConfig) => void): Promise<BizraNode> {
  const node = await BizraNode.create(
    { config: testConfig(tune), dataDir, probeGpu: false },
    { identity: await generateIdentity(), logger: silentLogger() },
  );
  await node.start();
  return node;
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
