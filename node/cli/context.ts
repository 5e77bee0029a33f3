/** What every command needs first: the data dir, the config file and the resolved settings. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readConfigFile } from '../config/file.ts';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.ts';
import { type DataDirLayout, defaultDataDir, layoutOf } from '../paths.ts';

export interface CommonOptions {
  dataDir?: string;
  config?: string;
}

export interface CliContext {
  layout: DataDirLayout;
  configPath: string | undefined;
  resolved: ResolvedConfig;
}

/** Data dir: --data-dir, then BIZRA_DATA_DIR, then the XDG default. */
export function resolveDataDir(opts: CommonOptions, env: Record<string, string | undefined>): string {
  const raw = opts.dataDir ?? (env.BIZRA_DATA_DIR || undefined) ?? defaultDataDir(env);
  return resolve(raw);
}

/**
 * Config file: --config, then BIZRA_CONFIG (both must exist), then the data
 * dir's config.toml when there is one.
 */
export function loadContext(
  opts: CommonOptions,
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
): CliContext {
  const layout = layoutOf(resolveDataDir(opts, env));
  const explicit = opts.config ?? (env.BIZRA_CONFIG || undefined);
  const configPath = explicit ? resolve(explicit) : existsSync(layout.configFile) ? layout.configFile : undefined;
  const file = configPath ? readConfigFile(configPath) : undefined;
  const resolved = resolveConfig({
    flags,
    env,
    ...(file ? { file } : {}),
    ...(configPath ? { filePath: configPath } : {}),
  });
  return { layout, configPath, resolved };
}
