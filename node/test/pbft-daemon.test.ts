/**
 * PBFT with a real daemon: validator 0 (the first primary) is a child process running
 * `bizra start`, validators 1-3 run in this process. The validator set is written by
 * `bizra consensus genesis`; requests go through `bizra consensus submit` and HTTP. The
 * daemon is killed with SIGKILL mid-load, the others change view and go on, and the
 * daemon restarts from its WAL and catches up. Bad validator-set files stop `bizra start`
 * with exit 2 and a message naming the problem.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import { defaultConfig } from '../config/schema.ts';
import { initDataDir } from '../init.ts';
import { BizraNode } from '../node.ts';
import { type Daemon, freePort, run, startDaemon } from './cli-process.ts';
import { silentLogger, useTempDirs } from './helpers.ts';
import { CommittedLogs, clientSigner, runLoad, until } from './pbft-helpers.ts';

interface Status {
  view: number;
  primary: number;
  lastExecuted: number;
  streams: number;
  active: boolean;
}

async function consensusStatus(apiPort: number): Promise<Status> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/v1/consensus`);
  return (await res.json()) as Status;
}

describe('PBFT with a daemon killed by SIGKILL', () => {
  const tempDir = useTempDirs('bizra-pbft-daemon-');
  const daemons: Daemon[] = [];
  const nodes: BizraNode[] = [];
  afterEach(async () => {
    for (const d of daemons.splice(0)) d.child.kill('SIGKILL');
    await Promise.allSettled(nodes.splice(0).map((n) => n.stop()));
  });

  it('the primary is killed mid-load, the rest change view, it restarts from its WAL and rejoins', async () => {
    const root = tempDir();
    const dirs = [0, 1, 2, 3].map((i) => join(root, `v${i}`));
    const identities = [];
    for (const d of dirs) identities.push((await initDataDir(d)).identity);
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    const apiPort = await freePort();
    const setPath = join(root, 'validator-set.json');
    const genesis = await run([
      'consensus',
      'genesis',
      '--chain-id',
      'kill9',
      ...dirs.flatMap((d, i) => ['--validator', `${d}@/ip4/127.0.0.1/tcp/${ports[i]}`]),
      '--checkpoint-interval',
      '16',
      '--log-window',
      '64',
      '--out',
      setPath,
    ]);
    expect(genesis.stderr).toContain('4 validator(s), tolerates f = 1 faulty');
    expect(genesis.code).toBe(0);
    const set = JSON.parse(readFileSync(setPath, 'utf8'));
    expect(set.validators[0].peerId).toBe(identities[0]!.peerId.toString());

    const timing = ['--consensus-view-change-timeout-ms', '500', '--consensus-status-interval-ms', '200'];
    const daemonArgs = [
      '--data-dir',
      dirs[0]!,
      '--api-port',
      String(apiPort),
      '--p2p-listen',
      `/ip4/127.0.0.1/tcp/${ports[0]}`,
      '--p2p-dht',
      'false',
      '--membership-enabled',
      'false',
      '--consensus-validator-set',
      setPath,
      ...timing,
    ];
    daemons.push(await startDaemon(daemonArgs));
    for (let i = 1; i < 4; i++) {
      const config = defaultConfig();
      config.profile = 'testnet';
      config.p2p.listen = [`/ip4/127.0.0.1/tcp/${ports[i]}`];
      config.p2p.dht = false;
      config.api.enabled = false;
      config.membership.enabled = false;
      config.consensus.validatorSet = setPath;
      config.consensus.viewChangeTimeoutMs = 500;
      config.consensus.statusIntervalMs = 200;
      const node = await BizraNode.create(
        { config, dataDir: dirs[i]!, probeGpu: false, processMetrics: false },
        { identity: identities[i]!, logger: silentLogger() },
      );
      await node.start();
      nodes.push(node);
    }
    const logs = new CommittedLogs();
    for (const n of nodes) logs.watch(n);
    await until('streams open', () => nodes.every((n) => n.consensus!.streams() === 3), 15_000);
    for (let k = 0; k < 100 && (await consensusStatus(apiPort)).streams !== 3; k++) {
      await new Promise((r) => setTimeout(r, 100));
    }

    // The CLI signs with the daemon's node key and waits for the commit.
    const submitted = await run([
      'consensus',
      'submit',
      '--data-dir',
      dirs[0]!,
      '--api-port',
      String(apiPort),
      '--op',
      '{"op":"put","key":"cli","value":"hello"}',
      '--json',
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const answer = JSON.parse(submitted.stdout);
    expect(answer).toMatchObject({ committed: true, view: 0, replica: 0 });
    expect(Buffer.from(answer.result, 'base64').toString()).toBe('{"ok":true,"previous":null}');
    const status = await run(['consensus', 'status', '--api-port', String(apiPort)]);
    expect(status.stdout).toMatch(/^this node: +replica 0$/m);
    expect(status.stdout).toMatch(/^view: +0 \(active\), primary 0$/m);
    expect(status.stdout).toMatch(/^pipeline: +at most 8 batches in flight as primary$/m);

    const stop = new AbortController();
    const load = runLoad(() => nodes, { clients: 4, isLive: () => true, stop: stop.signal });
    let executedBeforeKill = 0;
    try {
      await until('30 commits', () => load.stats.committed >= 30, 20_000);
      executedBeforeKill = (await consensusStatus(apiPort)).lastExecuted;
      daemons[0]!.child.kill('SIGKILL');
      expect(await daemons[0]!.exited).toBe(null);
      load.mark();
      await until('40 commits without the old primary', () => load.stats.after.length >= 40, 20_000);
    } finally {
      stop.abort();
      await load.done;
    }
    expect(load.stats.errors).toEqual([]);
    expect(executedBeforeKill).toBeGreaterThan(1);
    expect(Math.max(...load.stats.after.map((a) => a.view))).toBeGreaterThanOrEqual(1);
    // A key written while the daemon was dead.
    const writer = clientSigner(9);
    const put = signRequest(writer, 1, encodeKvOperation({ op: 'put', key: 'while-dead', value: 'yes' }));
    expect((await nodes[0]!.consensus!.submit(put)).ok).toBe(true);

    // Restart: it recovers its committed prefix from the WAL, then catches up and rejoins.
    const restarted = await startDaemon(daemonArgs);
    daemons.splice(0, 1, restarted);
    const recovered = restarted
      .output()
      .split('\n')
      .find((l) => l.includes('recovered the PBFT replica from its write-ahead log'));
    expect(recovered, restarted.output()).toBeDefined();
    expect(JSON.parse(recovered!).lastExecuted).toBeGreaterThanOrEqual(executedBeforeKill);
    const target = nodes[0]!.consensus!.status()!.lastExecuted;
    let s = await consensusStatus(apiPort);
    for (let k = 0; k < 150 && !(s.lastExecuted >= target && s.view >= 1 && s.active); k++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await consensusStatus(apiPort);
    }
    expect(s.lastExecuted).toBeGreaterThanOrEqual(target);
    expect(s.view).toBe(nodes[0]!.consensus!.status()!.view);
    // Its state has what was written while it was dead: a read executed by its own replica.
    const get = signRequest(writer, 2, encodeKvOperation({ op: 'get', key: 'while-dead' }));
    const res = await fetch(`http://127.0.0.1:${apiPort}/v1/consensus/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client: Buffer.from(get.client).toString('hex'),
        timestamp: get.timestamp,
        operation: Buffer.from(get.operation).toString('base64'),
        signature: Buffer.from(get.signature).toString('hex'),
      }),
    });
    const read = (await res.json()) as { replica: number; result: string };
    expect(res.status).toBe(200);
    expect(read.replica).toBe(0);
    expect(Buffer.from(read.result, 'base64').toString()).toBe('{"ok":true,"value":"yes"}');
    expect(logs.conflicts()).toEqual([]);
  }, 60_000);

  it('bizra start refuses a bad validator-set file with exit 2 and names the problem', async () => {
    const root = tempDir();
    const dir = join(root, 'data');
    const cases: [string | null, RegExp][] = [
      [null, /cannot read validator set .*missing\.json: ENOENT/],
      ['{"format": "bizra-validator-set/1", "chainId": "x", "validators": []', /is not JSON/],
      [
        '{"format": "bizra-validator-set/1", "chainId": "x", "validators": []}',
        /"validators" must be a non-empty array/,
      ],
      [
        JSON.stringify({
          format: 'bizra-validator-set/1',
          chainId: 'x',
          validators: [{ publicKey: '11'.repeat(32), peerId: '12D3KooWJYU99qtmtRagmr96SkGK8mjkd4H5CRWZ8Eq8TSqhc9fJ' }],
        }),
        /validators\[0\]\.peerId 12D3KooWJYU99.* is not the peer id of its publicKey/,
      ],
      [
        JSON.stringify({
          format: 'bizra-validator-set/1',
          chainId: 'x',
          params: { logWindow: 100 },
          validators: [{ publicKey: '11'.repeat(32) }],
        }),
        /param logWindow \(100\) must be a multiple of checkpointInterval \(128\)/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = join(root, text === null ? 'missing.json' : 'set.json');
      if (text !== null) writeFileSync(file, text);
      const res = await run(['start', '--data-dir', dir, '--api-port', '0', '--consensus-validator-set', file]);
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
