import type { Command } from 'commander';
import { stringify } from 'smol-toml';
import { SETTINGS } from '../../config/schema.ts';
import { type CommonOptions, loadContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { addSettingFlags, settingFlagValues } from '../settings-flags.ts';

export function registerConfig(program: Command, io: CliIo): void {
  const config = program.command('config').description('Inspect settings.');
  const show = config
    .command('show')
    .description('Print the effective settings and where each came from (flag, env, file or default).')
    .option('--data-dir <dir>', 'data directory (env BIZRA_DATA_DIR)')
    .option('--config <file>', 'config file (env BIZRA_CONFIG; default <data dir>/config.toml)')
    .option('--json', 'print as JSON');
  const attrToKey = addSettingFlags(show);
  show.action((opts: CommonOptions & { json?: boolean } & Record<string, unknown>) => {
    const ctx = loadContext(opts, settingFlagValues(opts, attrToKey), io.env);
    for (const w of ctx.resolved.warnings) io.printErr(`warning: ${w}`);
    if (opts.json) {
      return io.print(JSON.stringify({ configFile: ctx.configPath ?? null, ...ctx.resolved }, null, 2));
    }
    io.print(`# data dir:    ${ctx.layout.root}`, `# config file: ${ctx.configPath ?? '(none)'}`);
    for (const s of SETTINGS) {
      const value = s.key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], ctx.resolved.config);
      io.print(
        `${stringify({ [s.key]: value })
          .trim()
          .replace(/^"([^"]+)"/, '$1')}  # ${ctx.resolved.sources[s.key]}`,
      );
    }
  });
}
