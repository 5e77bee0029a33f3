/**
 * Flags of `npm run testnet`, parsed by a pure function (no writes, no exits)
 * so the rules can be unit-tested. The small number parsers are shared with
 * the benchmark scripts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../node/config/schema.ts';

export interface TestnetArgs {
  peers: number;
  /** 0: the OS picks each node's API port; otherwise node i gets apiBasePort + i. */
  apiBasePort: number;
  api: boolean;
  /** Run kad-dht on every node (p2p.dht). */
  dht: boolean;
  /** Heartbeats and failure detection on every node (membership.enabled); implied by kill and restart. */
  membership: boolean;
  /** Nodes to stop once all are ACTIVE (the membership scenario); 0: none. */
  kill: number;
  /** Start the killed nodes again and time their rejoin. */
  restart: boolean;
  degree: number;
  seed: number;
  /** Keep the nodes' data here; a temp dir (removed at exit) when absent. */
  root: string | undefined;
  logLevel: LogLevel;
  json: boolean;
  /** Seconds to wait for gossip meshes before printing the table. */
  settle: number;
  /** Seconds to keep running after the table; until a signal when absent. */
  duration: number | undefined;
  /** PBFT among the first `pbft` nodes (a generated validator set); 0: off. */
  pbft: number;
  /** Worker threads the nodes are spread over; 1: all in the main event loop. */
  workers: number;
}

/** What the caller should do: run with these args, or print this text (help) and exit 0. */
export type ParseResult = { kind: 'run'; args: TestnetArgs } | { kind: 'help'; text: string };

/** A bad command line: the message names the flag and what it accepts. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A commander argument parser for an integer in [min, max]. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A commander argument parser for a number (fractions allowed) in (min, max] or [min, max]. */
export function numberArg(min: number, max: number, opts: { exclusiveMin?: boolean } = {}): (value: string) => number {
  return (value) => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
    const tooSmall = opts.exclusiveMin ? n <= min : n < min;
    if (!Number.isFinite(n) || tooSmall || n > max) {
      const low = opts.exclusiveMin ? `greater than ${min}` : `at least ${min}`;
      throw new InvalidArgumentError(`Expected a number ${low} and at most ${max}.`);
    }
    return n;
  };
}

/**
 * Runs a commander program over `argv` (user arguments only, without `node
 * script`) with output captured and exits turned into exceptions.
 * Returns the help text when help was asked for, else undefined.
 */
export function parseQuietly(program: Command, argv: readonly string[]): { help: string } | undefined {
  let out = '';
  let err = '';
  program
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s), outputError: () => undefined })
    .allowExcessArguments(false);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return { help: out };
      throw new UsageError(e.message.replace(/^error: /, '') || err.trim());
    }
    throw e;
  }
  return undefined;
}

/**
 * A script's flags, or the exit code to return at once: 0 after printing the
 * help text, 2 after printing a usage error prefixed with the script's name.
 */
export function argsOrExitCode<T extends object>(
  name: string,
  parse: (argv: readonly string[]) => T | { help: string },
  argv: readonly string[],
): T | number {
  try {
    const parsed = parse(argv);
    if ('help' in parsed && typeof parsed.help === 'string') {
      process.stdout.write(parsed.help);
      return 0;
    }
    return parsed as T;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    return 2;
  }
}

export function testnetProgram(): Command {
  return new Command('testnet')
    .description('Start N BIZRA nodes in this process, connect them into one gossip network and show a table of them.')
    .addOption(new Option('--peers <n>', 'number of nodes (1 to 1000)').argParser(intArg(1, 1000)).default(4))
    .addOption(
      new Option('--api-base-port <port>', 'first API port, node i gets port+i (0: the OS picks each)')
        .argParser(intArg(0, 65_535))
        .default(0),
    )
    .option('--no-api', 'do not serve the HTTP API on the nodes')
    .addOption(
      new Option(
        '--kill <k>',
        'once every node sees every other ACTIVE, stop K seeded-random nodes and time SUSPECT and DEAD on every survivor (implies --membership)',
      ).argParser(intArg(1, 999)),
    )
    .option(
      '--restart',
      'after --kill, start the stopped nodes again and time until every node sees them ACTIVE',
      false,
    )
    .option(
      '--membership',
      'turn on heartbeats and failure detection (membership.enabled); each node hears every heartbeat, so the cost grows with the square of --peers',
      false,
    )
    .option(
      '--no-dht',
      'run the nodes without kad-dht (p2p.dht = false): far fewer connections and less memory per node',
    )
    .addOption(
      new Option('--degree <d>', 'how many earlier nodes each node dials (1 to 100)')
        .argParser(intArg(1, 100))
        .default(6),
    )
    .addOption(
      new Option('--seed <s>', 'seed for the topology (0 to 4294967295)').argParser(intArg(0, 0xffff_ffff)).default(1),
    )
    .addOption(
      new Option(
        '--workers <w>',
        'spread the nodes over W worker threads, one event loop each (1 to 16; one loop runs out near 150 nodes with --membership)',
      )
        .argParser(intArg(1, 16))
        .default(1),
    )
    .addOption(
      new Option(
        '--pbft [validators]',
        'run PBFT among the first V nodes (default: all of --peers), with a validator set written to <root>/validator-set.json',
      ).argParser(intArg(1, 1000)),
    )
    .option('--root <dir>', 'keep the data dirs here (default: a temp dir removed at exit)')
    .addOption(
      new Option('--log-level <level>', 'lowest log level written to stderr').choices(LOG_LEVELS).default('warn'),
    )
    .option('--json', 'print the table as JSON (full peer ids, listen addresses)', false)
    .addOption(
      new Option('--settle <seconds>', 'wait at most this long for gossip meshes before the table')
        .argParser(numberArg(0, 600))
        .default(5),
    )
    .addOption(
      new Option(
        '--duration <seconds>',
        'stop by itself this long after the table (default: run until a signal)',
      ).argParser(numberArg(0, 31_536_000, { exclusiveMin: true })),
    );
}

export function parseTestnetArgs(argv: readonly string[]): ParseResult {
  const program = testnetProgram();
  const help = parseQuietly(program, argv);
  if (help) return { kind: 'help', text: help.help };
  const o = program.opts<{
    peers: number;
    apiBasePort: number;
    api: boolean;
    dht: boolean;
    membership: boolean;
    kill?: number;
    restart: boolean;
    degree: number;
    seed: number;
    root?: string;
    logLevel: LogLevel;
    json: boolean;
    settle: number;
    duration?: number;
    pbft?: number | true;
    workers: number;
  }>();
  const pbft = o.pbft === undefined ? 0 : o.pbft === true ? o.peers : o.pbft;
  if (pbft > o.peers) throw new UsageError(`--pbft ${pbft} names more validators than --peers ${o.peers}.`);
  if (o.apiBasePort !== 0 && o.apiBasePort + o.peers - 1 > 65_535) {
    throw new UsageError(
      `--api-base-port ${o.apiBasePort} with --peers ${o.peers} would need ports up to ${o.apiBasePort + o.peers - 1}; the last port must be at most 65535.`,
    );
  }
  if (o.apiBasePort !== 0 && !o.api) {
    throw new UsageError('--api-base-port makes no sense with --no-api; drop one of them.');
  }
  if (o.kill !== undefined && o.kill >= o.peers) {
    throw new UsageError(
      `--kill ${o.kill} would stop every node; with --peers ${o.peers} it can be at most ${o.peers - 1}.`,
    );
  }
  if (o.workers > 1 && pbft > 0) throw new UsageError('--pbft runs in one event loop; drop --workers or --pbft.');
  if (o.workers > o.peers) throw new UsageError(`--workers ${o.workers} is more than --peers ${o.peers}.`);
  if (o.restart && o.kill === undefined)
    throw new UsageError('--restart restarts the nodes --kill stopped; give --kill too.');
  if (o.root !== undefined && o.root.trim() === '') throw new UsageError('--root must not be empty.');
  return {
    kind: 'run',
    args: {
      peers: o.peers,
      apiBasePort: o.apiBasePort,
      api: o.api,
      dht: o.dht,
      membership: o.membership || o.kill !== undefined,
      kill: o.kill ?? 0,
      restart: o.restart,
      degree: o.degree,
      seed: o.seed,
      root: o.root,
      logLevel: o.logLevel,
      json: o.json,
      settle: o.settle,
      duration: o.duration,
      pbft,
      workers: o.workers,
    },
  };
}
