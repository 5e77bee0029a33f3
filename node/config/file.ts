import { readFileSync } from 'node:fs';
import { parse, stringify } from 'smol-toml';
import { ConfigError } from './errors.ts';
import { SETTINGS } from './schema.ts';

/** Reads and parses a TOML config file; a missing or malformed file is a ConfigError. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ConfigError(`config file ${path} does not exist (run \`bizra init\` to write one)`);
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${path} is not valid TOML: ${first}`);
  }
}

/**
 * The config file `bizra init` writes: every setting with its default, each
 * commented out so that changing a default in a later release reaches nodes
 * that never touched it, and with its description above it. A setting named in
 * `set` (by its dotted key) is written uncommented with the value given instead.
 */
export function renderDefaultConfigFile(set: Readonly<Record<string, unknown>> = {}): string {
  for (const key of Object.keys(set)) {
    if (!SETTINGS.some((s) => s.key === key)) throw new RangeError(`no setting ${key}`);
  }
  const lines = [
    '# BIZRA node configuration.',
    '# Precedence: command-line flags, then BIZRA_* environment variables, then this file, then defaults.',
    '# Every setting is shown with its default, commented out. Uncomment a line to change it.',
    '',
  ];
  let section = '';
  for (const s of SETTINGS) {
    const [head, tail] = s.key.includes('.') ? (s.key.split('.') as [string, string]) : ['', s.key];
    if (head !== section) {
      section = head;
      lines.push('', `[${head}]`);
    }
    lines.push(`# ${s.description}`, `# Allowed: ${s.allowed}.`);
    if (Object.hasOwn(set, s.key)) lines.push(stringify({ [tail]: set[s.key] }).trim());
    else lines.push(`# ${stringify({ [tail]: s.default }).trim()}`);
  }
  return `${lines.join('\n')}\n`;
}
