import type { Command } from 'commander';
import { NodeError } from '../../errors.ts';
import { type CommonOptions, loadContext, resolveDataDir } from '../context.ts';
import type { CliIo } from '../io.ts';
import { addSettingFlags, settingFlagValues } from '../settings-flags.ts';
import { handleShutdownSignals } from '../signals.ts';

export function registerStart(program: Command, io: CliIo): void {
  const cmd = program
    .command('start')
    .description(
      'Run the daemon in the foreground. A fresh data dir is initialised first. Settings: flags, then BIZRA_* env, then the config file, then defaults.',
    )
    .option(
      '--data-dir <dir>',
      'data directory (env BIZRA_DATA_DIR; default $XDG_DATA_HOME/bizra or ~/.local/share/bizra)',
    )
    .option('--config <file>', 'config file (env BIZRA_CONFIG; default <data dir>/config.toml)');
  const attrToKey = addSettingFlags(cmd);
  cmd.action(async (opts: CommonOptions & Record<string, unknown>) => {
    // Loaded here, not at the top: the other commands answer without loading libp2p.
    const [{ initDataDir }, { createLogger }, { BizraNode }] = await Promise.all([
      import('../../init.ts'),
      import('../../log.ts'),
      import('../../node.ts'),
    ]);
    // Initialise before reading the config so a fresh data dir gets its config file too.
    const init = await initDataDir(resolveDataDir(opts, io.env));
    const ctx = loadContext(opts, settingFlagValues(opts, attrToKey), io.env);
    const { config } = ctx.resolved;
    const logger = createLogger({ level: config.log.level, format: config.log.format });
    for (const w of ctx.resolved.warnings) logger.warn(w);
    if (init.wroteKey) logger.info({ dataDir: ctx.layout.root }, 'initialised a new data dir');
    const node = await BizraNode.create(
      { config, dataDir: ctx.layout.root },
      { identity: init.identity, logger: logger.child({ module: 'node' }) },
    );
    // Handlers go in before start, so a signal during start-up still stops cleanly.
    handleShutdownSignals(node, { timeoutMs: config.shutdown.timeoutMs, logger });
    try {
      await node.start();
    } catch (err) {
      // A signal arrived during start-up: the signal handler finishes the stop and exits.
      if (err instanceof NodeError && err.code === 'STOPPED') return;
      throw err;
    }
  });
}
