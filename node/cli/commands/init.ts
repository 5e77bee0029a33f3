import type { Command } from 'commander';
import { type CommonOptions, resolveDataDir } from '../context.ts';
import type { CliIo } from '../io.ts';

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(
      'Create the data dir, the Ed25519 node key (mode 0600) and a default config file. Keeps what exists. With --chain-id, also a validator-set file naming this node as the only validator, and a config that points at it: a one-node PBFT chain.',
    )
    .option(
      '--data-dir <dir>',
      'data directory (env BIZRA_DATA_DIR; default $XDG_DATA_HOME/bizra or ~/.local/share/bizra)',
    )
    .option('--chain-id <id>', 'write a one-validator set for this chain id (1-64 of A-Z a-z 0-9 . _ -)')
    .option(
      '--validator-set <file>',
      'where --chain-id writes the set (relative paths are in the data dir; default validator-set.json)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: CommonOptions & { json?: boolean; chainId?: string; validatorSet?: string }) => {
      const [{ initDataDir }, { ConfigError }] = await Promise.all([
        import('../../init.ts'),
        import('../../errors.ts'),
      ]);
      if (opts.validatorSet !== undefined && opts.chainId === undefined) {
        throw new ConfigError('--validator-set needs --chain-id (the chain the set is for)');
      }
      const result = await initDataDir(
        resolveDataDir(opts, io.env),
        opts.chainId === undefined
          ? {}
          : {
              validatorSet: {
                chainId: opts.chainId,
                ...(opts.validatorSet !== undefined ? { file: opts.validatorSet } : {}),
              },
            },
      );
      const set = result.validatorSet;
      const out = {
        dataDir: result.layout.root,
        peerId: result.identity.peerId.toString(),
        keyFile: result.layout.keyFile,
        configFile: result.layout.configFile,
        createdKey: result.wroteKey,
        createdConfig: result.wroteConfig,
        ...(set ? { chainId: opts.chainId, validatorSet: set.path, createdValidatorSet: set.wrote } : {}),
      };
      if (opts.json) return io.print(JSON.stringify(out, null, 2));
      io.print(
        result.wroteKey ? `initialised ${out.dataDir}` : `${out.dataDir} was already initialised; kept its key`,
        `peer id:     ${out.peerId}`,
        `node key:    ${out.keyFile}${result.wroteKey ? ' (new)' : ''}`,
        `config file: ${out.configFile}${result.wroteConfig ? ' (new)' : ''}`,
        ...(set
          ? [
              `validator set: ${set.path}${set.wrote ? ' (new)' : ''}: chain ${opts.chainId}, this node the only validator`,
            ]
          : []),
      );
    });
}
