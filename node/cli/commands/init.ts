import type { Command } from 'commander';
import { type CommonOptions, resolveDataDir } from '../context.ts';
import type { CliIo } from '../io.ts';

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('Create the data dir, the Ed25519 node key (mode 0600) and a default config file. Keeps what exists.')
    .option(
      '--data-dir <dir>',
      'data directory (env BIZRA_DATA_DIR; default $XDG_DATA_HOME/bizra or ~/.local/share/bizra)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { initDataDir } = await import('../../init.ts');
      const result = await initDataDir(resolveDataDir(opts, io.env));
      const out = {
        dataDir: result.layout.root,
        peerId: result.identity.peerId.toString(),
        keyFile: result.layout.keyFile,
        configFile: result.layout.configFile,
        createdKey: result.wroteKey,
        createdConfig: result.wroteConfig,
      };
      if (opts.json) return io.print(JSON.stringify(out, null, 2));
      io.print(
        result.wroteKey ? `initialised ${out.dataDir}` : `${out.dataDir} was already initialised; kept its key`,
        `peer id:     ${out.peerId}`,
        `node key:    ${out.keyFile}${result.wroteKey ? ' (new)' : ''}`,
        `config file: ${out.configFile}${result.wroteConfig ? ' (new)' : ''}`,
      );
    });
}
