import { homedir } from 'node:os';
import { join } from 'node:path';

/** What lives where inside a data dir. One place, so every command agrees. */
export interface DataDirLayout {
  root: string;
  configFile: string;
  keyFile: string;
  dbDir: string;
  lockFile: string;
}

export function layoutOf(root: string): DataDirLayout {
  return {
    root,
    configFile: join(root, 'config.toml'),
    keyFile: join(root, 'node_key.pem'),
    dbDir: join(root, 'db'),
    lockFile: join(root, 'bizra.lock'),
  };
}

/** `$XDG_DATA_HOME/bizra`, else `~/.local/share/bizra` (the XDG base-directory default). */
export function defaultDataDir(env: Record<string, string | undefined> = process.env, home = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg !== '' && xdg.startsWith('/')) return join(xdg, 'bizra');
  return join(home, '.local', 'share', 'bizra');
}
