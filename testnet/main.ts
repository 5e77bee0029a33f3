/**
 * `npm run testnet -- --peers N`: starts N nodes in this process, waits for
 * their gossip meshes, prints a table of them and keeps running until SIGINT
 * or SIGTERM (or --duration), then stops them all. A second signal exits at
 * once with status 1.
 *
 * stdout carries only the table (or JSON); progress, notices and logs go to stderr.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../node/log.ts';
import { parseTestnetArgs, type TestnetArgs, UsageError } from './args.ts';
import { type Cluster, startCluster } from './cluster.ts';
import { type ClusterHandle, localHandle } from './handle.ts';
import { sleep } from './mesh.ts';
import { startProgress } from './progress.ts';
import { renderScenario, renderTable, reportOf } from './report.ts';
import { runKillScenario } from './scenario.ts';
import { startWorkerCluster } from './worker-cluster.ts';

/** How long a clean stop may take before we give up and exit 1. */
const STOP_TIMEOUT_MS = 60_000;

class Interrupted extends Error {}

export async function main(argv: readonly string[]): Promise<number> {
  let args: TestnetArgs;
  try {
    const parsed = parseTestnetArgs(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return 0;
    }
    args = parsed.args;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`testnet: ${err.message}\nRun \`npm run testnet -- --help\` to see the flags.\n`);
    return 2;
  }

  const temporary = args.root === undefined;
  const root = args.root === undefined ? mkdtempSync(join(tmpdir(), 'bizra-testnet-')) : resolve(args.root);
  if (!temporary) mkdirSync(root, { recursive: true });
  const removeRoot = () => {
    if (temporary) rmSync(root, { recursive: true, force: true });
  };

  // First signal: stop cleanly. Second: leave at once.
  const stopping = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping.signal.aborted) {
      process.stderr.write(`\n${sig} again: exiting without a clean stop\n`);
      try {
        removeRoot();
      } finally {
        process.exit(1);
      }
    }
    process.stderr.write(`\n${sig}: stopping the nodes (send it again to exit at once)\n`);
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const logger = createLogger({
    level: args.logLevel,
    format: 'auto',
    destination: process.stderr,
    isTTY: process.stderr.isTTY === true,
  });
  const progress = startProgress(args.peers);
  const t0 = performance.now();
  let cluster: Cluster | undefined;
  let handle: ClusterHandle;
  try {
    if (args.workers > 1) {
      handle = await startWorkerCluster({
        peers: args.peers,
        workers: args.workers,
        root,
        api: args.api,
        apiBasePort: args.apiBasePort,
        degree: args.degree,
        seed: args.seed,
        membership: args.membership,
        settings: { 'p2p.dht': args.dht },
        logLevel: args.logLevel,
        onProgress: (done) => progress.update(done),
      });
    } else {
      cluster = await startCluster(
        {
          peers: args.peers,
          root,
          apiBasePort: args.apiBasePort,
          api: args.api,
          degree: args.degree,
          ...(args.pbft > 0 ? { pbft: { validators: args.pbft } } : {}),
          tune: (config) => {
            config.p2p.dht = args.dht;
            config.membership.enabled = args.membership;
          },
          seed: args.seed,
          onProgress: (done) => {
            progress.update(done);
            // Throwing here makes startCluster stop the nodes it has started.
            if (stopping.signal.aborted) throw new Interrupted();
          },
        },
        { logger },
      );
      handle = localHandle(cluster);
    }
  } catch (err) {
    progress.stop();
    removeRoot();
    if (err instanceof Interrupted) return 0;
    process.stderr.write(`testnet: could not start the nodes: ${(err as Error).message}\n`);
    return 1;
  }
  progress.stop();
  const startSecs = (performance.now() - t0) / 1000;
  process.stderr.write(`started ${args.peers} node(s) in ${startSecs.toFixed(1)} s; waiting for gossip meshes\n`);

  const mesh = await handle.waitForMeshes({ timeoutMs: args.settle * 1000, signal: stopping.signal });
  if (mesh !== 'aborted') {
    const report = reportOf(await handle.rows(), root, temporary);
    if (args.kill > 0) {
      // The membership scenario ends the run by itself after its report.
      const scenario = await runKillScenario(handle, {
        kill: args.kill,
        restart: args.restart,
        seed: args.seed,
        phaseTimeoutMs: 120_000,
        signal: stopping.signal,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(
        args.json
          ? `${JSON.stringify({ ...report, membership: scenario }, null, 2)}\n`
          : `${renderTable(report, process.stdout.isTTY === true)}${renderScenario(scenario, process.stdout.isTTY === true)}`,
      );
      stopping.abort();
    } else {
      process.stdout.write(
        args.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report, process.stdout.isTTY === true),
      );
    }
    if (args.pbft > 0) {
      const port = cluster?.nodes[0]?.apiAddress?.port;
      process.stderr.write(
        `PBFT: ${args.pbft} validator(s) (nodes 0-${args.pbft - 1}), validator set ${join(root, 'validator-set.json')}${port ? `; try \`npm run bizra -- consensus status --api-port ${port}\`` : ''}\n`,
      );
    }
    if (!stopping.signal.aborted)
      process.stderr.write(
        args.duration === undefined
          ? 'running; press Ctrl-C (or send SIGTERM) to stop\n'
          : `running for ${args.duration} s\n`,
      );
    await sleep(args.duration === undefined ? 2 ** 31 - 1 : args.duration * 1000, stopping.signal);
    // A plain timer cannot wait longer than ~24.8 days; keep waiting for a signal past that.
    while (args.duration === undefined && !stopping.signal.aborted) await sleep(2 ** 31 - 1, stopping.signal);
  }

  const stopTimer = setTimeout(() => {
    process.stderr.write(`testnet: the nodes did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting\n`);
    removeRoot();
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  await handle.stopAll();
  clearTimeout(stopTimer);
  removeRoot();
  process.stderr.write('stopped\n');
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    // Exit explicitly: a stopped libp2p can leave timers behind that would keep the process alive.
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`testnet: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
