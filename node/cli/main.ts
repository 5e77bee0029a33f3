/**
 * The `bizra` command line. Operator mistakes (bad flags, settings, files)
 * print one clear line and exit 2; runtime failures exit 1; an unreachable
 * daemon exits 3. No stack traces for errors an operator can fix.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, IdentityError, LockError, NodeError, StoreError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { ApiResponseError, ApiUnreachableError } from './api-client.ts';
import { registerConfig } from './commands/config.ts';
import { registerConsensus } from './commands/consensus.ts';
import { registerId } from './commands/id.ts';
import { registerInit } from './commands/init.ts';
import { registerPci } from './commands/pci.ts';
import { registerPeers } from './commands/peers.ts';
import { registerSim } from './commands/sim.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerVersion } from './commands/version.ts';
import { type CliIo, processIo } from './io.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

export function buildProgram(io: CliIo): Command {
  const program = new Command('bizra')
    .description('BIZRA node: a sovereign peer-to-peer federation daemon.')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.print(s.trimEnd()), writeErr: (s) => io.printErr(s.trimEnd()) });
  registerInit(program, io);
  registerStart(program, io);
  registerStatus(program, io);
  registerPeers(program, io);
  registerPci(program, io);
  registerConsensus(program, io);
  registerId(program, io);
  registerConfig(program, io);
  registerSim(program, io);
  registerVersion(program, io);
  // Every subcommand inherits the error behaviour, so their mistakes are ours to report.
  const exitOverride = (cmd: Command) => {
    cmd.exitOverride();
    for (const sub of cmd.commands) exitOverride(sub);
  };
  exitOverride(program);
  return program;
}

/** Maps an error to an exit code and a message for stderr. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof ConfigError || err instanceof IdentityError || err instanceof LockError) {
    return { code: EXIT.usage, message: err.message };
  }
  if (err instanceof StoreError || err instanceof NodeError || err instanceof ApiResponseError) {
    return { code: EXIT.failure, message: err.message };
  }
  if (err instanceof ApiUnreachableError) return { code: EXIT.unreachable, message: err.message };
  const e = err as { code?: string; message?: string };
  if (e?.code === 'EADDRINUSE') return { code: EXIT.failure, message: `address in use: ${e.message}` };
  return { code: EXIT.failure, message: `unexpected error: ${(err as Error)?.stack ?? String(err)}` };
}

export async function main(argv: string[], io: CliIo = processIo): Promise<void> {
  const program = buildProgram(io);
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return;
    }
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message; help and version are not errors.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const { code, message } = describeError(err);
    io.printErr(`bizra: ${message}`);
    process.exitCode = code;
  }
}
