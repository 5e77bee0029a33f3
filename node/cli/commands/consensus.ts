/**
 * `bizra consensus genesis | status | submit`: write a validator-set file, ask a running
 * node for its replica's state, sign a request and have it committed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../../errors.ts';
import { layoutOf } from '../../paths.ts';
import { callApi } from '../api-client.ts';
import type { CommonOptions } from '../context.ts';
import type { CliIo } from '../io.ts';
import { type ApiCommandOptions, addApiOptions, apiFor } from './status.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface GenesisOptions {
  chainId: string;
  validator?: string[];
  checkpointInterval?: number;
  logWindow?: number;
  batchSize?: number;
  out?: string;
  force?: boolean;
}

interface SubmitOptions extends ApiCommandOptions {
  op?: string;
  operationFile?: string;
  key?: string;
  timestamp?: number;
  timeoutMs?: number;
  validatorSet?: string;
}

interface ConsensusStatus {
  enabled: boolean;
  chainId?: string;
  validator?: boolean;
  replica?: number | null;
  n?: number;
  f?: number;
  view?: number;
  active?: boolean;
  primary?: number;
  lastExecuted?: number;
  stableCheckpoint?: number;
  pendingRequests?: number;
  pipelineWindow?: number;
  streams?: number;
  running?: boolean;
  failure?: string;
  validators?: { index: number; peerId: string }[];
}

export function registerConsensus(program: Command, io: CliIo): void {
  const consensus = program.command('consensus').description('PBFT: validator sets, replica status, requests.');

  consensus
    .command('genesis')
    .description(
      'Write a validator-set (genesis) file. Each --validator is a data dir (its node key is read) or a raw Ed25519 public key in hex, optionally followed by @ and comma-separated multiaddrs to dial it at. The order is the replica order.',
    )
    .requiredOption('--chain-id <id>', 'the chain id (1-64 of A-Z a-z 0-9 . _ -)')
    .option('--validator <dir|hex[@multiaddr,...]>', 'a validator (repeat, in replica order)', collect)
    .option('--checkpoint-interval <k>', 'checkpoint every k sequence numbers (default 128)', positiveInt)
    .option('--log-window <l>', 'log window, a multiple of the interval (default 256)', positiveInt)
    .option('--batch-size <n>', 'most requests in one batch (default 64)', positiveInt)
    .option('--out <file>', 'write the file here instead of stdout')
    .option('--force', 'overwrite --out if it exists')
    .action(async (opts: GenesisOptions) => {
      const [{ loadIdentity }, vs] = await Promise.all([
        import('../../identity.ts'),
        import('../../consensus/validator-set.ts'),
      ]);
      const specs = opts.validator ?? [];
      if (specs.length === 0) throw new ConfigError('give at least one --validator');
      const validators = [];
      for (const spec of specs) {
        const at = spec.indexOf('@/');
        const who = at >= 0 ? spec.slice(0, at) : spec;
        const addresses =
          at >= 0
            ? spec
                .slice(at + 1)
                .split(',')
                .filter((a) => a.length > 0)
            : [];
        let publicKey: string;
        if (/^[0-9a-f]{64}$/.test(who)) {
          publicKey = who;
        } else if (existsSync(who)) {
          const identity = await loadIdentity(layoutOf(who).keyFile);
          publicKey = Buffer.from(identity.publicKey).toString('hex');
        } else {
          throw new ConfigError(`--validator ${spec}: ${who} is neither a data dir nor a 64-character hex public key`);
        }
        validators.push({ publicKey, addresses });
      }
      const params: Record<string, number> = {};
      if (opts.checkpointInterval !== undefined) params['checkpointInterval'] = opts.checkpointInterval;
      if (opts.logWindow !== undefined) params['logWindow'] = opts.logWindow;
      if (opts.batchSize !== undefined) params['batchSize'] = opts.batchSize;
      // Through the same checks as a file read at start, so what is written is what loads.
      const set = vs.parseValidatorSet(
        { format: vs.VALIDATOR_SET_FORMAT, chainId: opts.chainId, params, validators },
        'being written',
      );
      const text = vs.renderValidatorSet(set);
      if (opts.out === undefined) return io.print(text.trimEnd());
      if (existsSync(opts.out) && !opts.force)
        throw new ConfigError(`${opts.out} exists; pass --force to overwrite it`);
      writeFileSync(opts.out, text, { mode: 0o644 });
      const { n, f } = vs.faultTolerance(set);
      io.printErr(`wrote ${opts.out}: chain ${set.chainId}, ${n} validator(s), tolerates f = ${f} faulty`);
    });

  addApiOptions(
    consensus
      .command('status')
      .description("Ask a running node for its replica's view, primary, last executed sequence and checkpoint."),
  ).action(async (opts: ApiCommandOptions) => {
    const res = await callApi<ConsensusStatus>(apiFor(opts, io), '/v1/consensus');
    const s = res.body;
    if (opts.json) return io.print(JSON.stringify(s, null, 2));
    if (!s.enabled) return io.print('consensus: off (consensus.validatorSet is not set)');
    io.print(
      `chain:        ${s.chainId} (${s.n} validators, f = ${s.f})`,
      `this node:    ${s.validator ? `replica ${s.replica}` : 'not a validator'}`,
    );
    if (s.validator) {
      io.print(
        `replica:      ${s.running ? 'running' : `stopped${s.failure ? `: ${s.failure}` : ''}`}`,
        `view:         ${s.view} (${s.active ? 'active' : 'changing view'}), primary ${s.primary}`,
        `executed:     ${s.lastExecuted}, stable checkpoint ${s.stableCheckpoint}, ${s.pendingRequests} pending`,
        `pipeline:     at most ${s.pipelineWindow} batches in flight as primary`,
        `streams:      ${s.streams} of ${(s.n ?? 1) - 1} validators`,
      );
    }
  });

  addApiOptions(
    consensus
      .command('submit')
      .description(
        'Sign a request with the node key (or --key) and submit it to a running validator; prints the result once it is committed. For the default key-value app the operation is JSON such as \'{"op":"put","key":"a","value":"1"}\'.',
      ),
  )
    .option('--op <text>', 'the operation (UTF-8 text)')
    .option('--operation-file <file>', 'the operation bytes from a file')
    .option('--key <pem>', 'sign as this client (a PKCS#8 Ed25519 key) instead of the node key')
    .option(
      '--timestamp <n>',
      'the request timestamp (default: now in ms; must grow with every request of a client)',
      positiveInt,
    )
    .option('--timeout-ms <ms>', 'how long the node waits for the commit (100-600000)', positiveInt)
    .option(
      '--validator-set <file>',
      "check the node's signed REPLY against this validator-set file (default: the data dir config's consensus.validatorSet, if any)",
    )
    .action(async (opts: SubmitOptions & CommonOptions) => {
      if ((opts.op === undefined) === (opts.operationFile === undefined))
        throw new ConfigError('give exactly one of --op and --operation-file');
      let operation: Uint8Array;
      if (opts.op !== undefined) {
        operation = new TextEncoder().encode(opts.op);
      } else {
        try {
          operation = new Uint8Array(readFileSync(opts.operationFile!));
        } catch (err) {
          throw new ConfigError(
            `cannot read --operation-file ${opts.operationFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
      }
      const [
        { loadIdentity, identityFromPem },
        { Ed25519Signer },
        { signRequest },
        { resolveDataDir, loadContext },
        { loadValidatorSet },
        { checkReply },
      ] = await Promise.all([
        import('../../identity.ts'),
        import('../../../protocol/crypto/ed25519.ts'),
        import('../../../protocol/pbft/sign.ts'),
        import('../context.ts'),
        import('../../consensus/validator-set.ts'),
        import('../reply-check.ts'),
      ]);
      const dataDir = resolveDataDir(opts, io.env);
      // Read before submitting: a bad file is refused with nothing sent.
      const configuredSet = loadContext(opts, {}, io.env).resolved.config.consensus.validatorSet;
      const setPath =
        opts.validatorSet !== undefined
          ? resolve(opts.validatorSet)
          : configuredSet !== ''
            ? resolve(dataDir, configuredSet)
            : undefined;
      const set = setPath === undefined ? undefined : loadValidatorSet(setPath);
      const identity = opts.key
        ? await identityFromPem(readKey(opts.key), opts.key)
        : await loadIdentity(layoutOf(dataDir).keyFile);
      const request = signRequest(Ed25519Signer.fromSeed(identity.seed), opts.timestamp ?? Date.now(), operation);
      const res = await callApi<{
        committed?: boolean;
        seq?: number | null;
        view?: number;
        result?: string;
        replica?: number;
        error?: { code: string; message: string };
      }>(apiFor(opts, io), '/v1/consensus/requests', {
        method: 'POST',
        body: {
          client: Buffer.from(request.client).toString('hex'),
          timestamp: request.timestamp,
          operation: Buffer.from(request.operation).toString('base64'),
          signature: Buffer.from(request.signature).toString('hex'),
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        },
        timeoutMs: (opts.timeoutMs ?? 600_000) + 5000,
        accept: [400, 409, 503, 504],
      });
      const b = res.body;
      // A committed answer is the node's replica's signed REPLY: checked before it is believed.
      const problem = b.committed && set !== undefined ? checkReply(b, request, set) : null;
      if (problem !== null) {
        io.printErr(`bizra: the node answered committed, but ${problem} (validator set ${setPath})`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) io.print(JSON.stringify(b, null, 2));
      else if (b.committed) {
        const result = Buffer.from(b.result ?? '', 'base64');
        const text = new TextDecoder('utf-8', { fatal: false }).decode(result);
        io.print(
          `committed at seq ${b.seq ?? '(executed earlier)'} in view ${b.view} (replica ${b.replica})`,
          `result: ${text}`,
          set === undefined
            ? 'REPLY not checked: no validator-set file (pass --validator-set)'
            : `REPLY signed by replica ${b.replica} of chain ${set.chainId}: checked`,
        );
      } else io.print(`not committed: ${b.error?.code}: ${b.error?.message}`);
      if (!b.committed) process.exitCode = 1;
    });
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read --key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
