/**
 * `bizra pci sign | verify | submit`: build and sign an envelope from a
 * payload file, check one locally, or hand one to a running node.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../../errors.ts';
import { layoutOf } from '../../paths.ts';
import { callApi } from '../api-client.ts';
import { type CommonOptions, loadContext, resolveDataDir } from '../context.ts';
import type { CliIo } from '../io.ts';
import { type ApiCommandOptions, addApiOptions, apiFor } from './status.ts';

const AGENT_TYPES = ['USER', 'MODEL', 'SOVEREIGN'] as const;

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

interface SignOptions extends CommonOptions {
  payload: string;
  contentType: string;
  agentType: (typeof AGENT_TYPES)[number];
  ttl: number;
  ihsan: number;
  snr: number;
  timestampMs?: number;
  key?: string;
  out?: string;
  format: 'json' | 'protobuf';
}

export function registerPci(program: Command, io: CliIo): void {
  const pci = program.command('pci').description('Sign, verify and submit PCI envelopes.');

  pci
    .command('sign')
    .description("Build and sign an envelope around a payload file, with the node's key or --key.")
    .requiredOption('--payload <file>', 'the payload (for application/json it must parse as JSON)')
    .option('--content-type <type>', 'payload content type', 'application/json')
    .addOption(new Option('--agent-type <type>', 'who speaks').choices(AGENT_TYPES).default('USER'))
    .option('--ttl <seconds>', 'seconds the envelope stays valid', positiveInt, 300)
    .option('--ihsan <score>', 'ihsan score, 0 to 1', fraction, 1)
    .option('--snr <score>', 'signal-to-noise score, 0 to 1', fraction, 1)
    .option('--timestamp-ms <ms>', 'timestamp (Unix ms; default now)', positiveInt)
    .option('--key <pem>', 'sign with this PKCS#8 Ed25519 key instead of the node key')
    .option('--data-dir <dir>', 'data dir whose node key signs (env BIZRA_DATA_DIR)')
    .option('--out <file>', 'write the envelope here instead of stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'protobuf']).default('json'))
    .action(async (opts: SignOptions) => {
      const [{ loadIdentity, identityFromPem }, { signEnvelope, envelopeToJson }] = await Promise.all([
        import('../../identity.ts'),
        import('../../../protocol/pci/index.ts'),
      ]);
      const data = readInput(opts.payload, 'payload');
      if (opts.contentType === 'application/json') {
        try {
          JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
        } catch (err) {
          throw new ConfigError(
            `payload ${opts.payload} is not JSON (${(err as Error).message}); pass --content-type for other payloads`,
          );
        }
      }
      const identity = opts.key
        ? await identityFromPem(readFileSync(opts.key, 'utf8'), opts.key)
        : await loadIdentity(layoutOf(resolveDataDir(opts, io.env)).keyFile);
      let signed: ReturnType<typeof signEnvelope>;
      try {
        signed = signEnvelope(
          {
            agentType: opts.agentType,
            payload: { contentType: opts.contentType, data },
            timestampMs: opts.timestampMs ?? Date.now(),
            ttlSeconds: opts.ttl,
            ihsanScore: opts.ihsan,
            snrScore: opts.snr,
            nonce: randomBytes(16),
          },
          identity.seed,
        );
      } catch (err) {
        throw new ConfigError(`cannot sign: ${(err as Error).message}`);
      }
      if (opts.format === 'protobuf') {
        if (!opts.out) throw new ConfigError('--format protobuf writes binary; give --out <file>');
        writeFileSync(opts.out, signed.bytes);
      } else {
        const text = `${JSON.stringify(envelopeToJson(signed.envelope), null, 2)}\n`;
        if (opts.out) writeFileSync(opts.out, text);
        else io.print(text.trimEnd());
      }
      io.printErr(`envelope id ${signed.idHex}`);
    });

  const verify = pci
    .command('verify <file>')
    .description("Check an envelope (JSON or protobuf) against this node's PCI settings, without a daemon.")
    .option('--data-dir <dir>', 'data dir whose config holds the pci.* settings')
    .option('--config <file>', 'config file')
    .option('--json', 'print the result as JSON');
  verify.action(async (file: string, opts: CommonOptions & { json?: boolean }) => {
    const { EnvelopeVerifier, REJECT_CODES, isRejectCode } = await import('../../../protocol/pci/index.ts');
    const { config } = loadContext(opts, {}, io.env).resolved;
    const verifier = new EnvelopeVerifier({
      ihsanThreshold: config.pci.ihsanThreshold,
      snrThreshold: config.pci.snrThreshold,
      maxFutureSkewMs: config.pci.maxFutureSkewMs,
      maxTtlSeconds: config.pci.maxTtlSeconds,
      maxEnvelopeBytes: config.pci.maxEnvelopeBytes,
    });
    const bytes = await envelopeBytes(file);
    const result = verifier.verify(bytes, Date.now());
    const out = result.ok
      ? { ok: true, id: result.idHex }
      : {
          ok: false,
          code: result.code,
          name: isRejectCode(result.code) ? REJECT_CODES[result.code].name : result.code,
          reason: result.reason,
        };
    if (opts.json) io.print(JSON.stringify(out, null, 2));
    else if (out.ok) io.print(`valid: envelope ${out.id}`);
    else io.print(`rejected: ${out.code} ${out.name}: ${out.reason}`);
    if (!result.ok) process.exitCode = 1;
  });

  addApiOptions(
    pci.command('submit <file>').description('Submit an envelope (JSON or protobuf) to a running node.'),
  ).action(async (file: string, opts: ApiCommandOptions) => {
    const bytes = await envelopeBytes(file);
    const res = await fetchSubmit(apiFor(opts, io), bytes);
    if (opts.json) io.print(JSON.stringify(res.body, null, 2));
    else if (res.body.accepted) io.print(`accepted: envelope ${res.body.id}`);
    else io.print(`rejected: ${res.body.error?.code} ${res.body.error?.name ?? ''}: ${res.body.error?.message}`);
    if (!res.body.accepted) process.exitCode = 1;
  });
}

interface SubmitBody {
  accepted?: boolean;
  id?: string;
  error?: { code: string; name?: string; message: string };
}

async function fetchSubmit(base: string, bytes: Uint8Array) {
  // 422 (rejected), 413 (too large) and 429 (rate limited) are answers, not failures of the call.
  return callApi<SubmitBody>(base, '/v1/pci', {
    method: 'POST',
    raw: { body: bytes, contentType: 'application/x-protobuf' },
    accept: [413, 422, 429],
  }).then((res) => ({
    ...res,
    body: res.body.error && res.body.accepted === undefined ? { ...res.body, accepted: false } : res.body,
  }));
}

function readInput(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (err) {
    throw new ConfigError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** The wire bytes of an envelope file: the JSON form (starts with `{`) or protobuf. */
async function envelopeBytes(file: string): Promise<Uint8Array> {
  const raw = readInput(file, 'envelope');
  const text = Buffer.from(raw.subarray(0, 64)).toString('utf8').trimStart();
  if (!text.startsWith('{')) return raw;
  const { signedEnvelopeFromJson } = await import('../../../protocol/pci/index.ts');
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch (err) {
    throw new ConfigError(`${file} starts like JSON but does not parse: ${(err as Error).message}`);
  }
  try {
    return signedEnvelopeFromJson(obj);
  } catch (err) {
    throw new ConfigError(`${file} is not a signed envelope: ${(err as Error).message}`);
  }
}
