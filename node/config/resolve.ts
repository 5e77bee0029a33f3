/**
 * Layered settings: flags, then BIZRA_* environment variables, then the config
 * file, then defaults. Every value is validated against the setting table and a
 * bad one is refused with the key, where it came from and what is allowed.
 */
import { ConfigError } from './errors.ts';
import { defaultConfig, envName, flagName, type NodeConfig, SETTINGS, type SettingSpec, setPath } from './schema.ts';

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface ResolveInput {
  /** Raw flag values keyed by setting key (strings or string arrays, as parsed from argv). */
  flags?: Record<string, unknown>;
  /** The environment; only BIZRA_* names are read. */
  env?: Record<string, string | undefined>;
  /** The parsed config file (nested tables), if one was read. */
  file?: Record<string, unknown>;
  /** Where the file came from, for error messages. */
  filePath?: string;
}

export interface ResolvedConfig {
  config: NodeConfig;
  sources: Record<string, Source>;
  /** Non-fatal observations, e.g. a BIZRA_* variable that names no setting. */
  warnings: string[];
}

/** Environment names read elsewhere (by the CLI), so not reported as unknown. */
const RESERVED_ENV = new Set(['BIZRA_DATA_DIR', 'BIZRA_CONFIG']);

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const sources: Record<string, Source> = {};
  const warnings: string[] = [];
  const fileValues = input.file ? flattenFile(input.file, input.filePath ?? 'config file') : new Map();
  const env = input.env ?? {};

  for (const spec of SETTINGS) {
    const flag = input.flags?.[spec.key];
    const envValue = env[envName(spec.key)];
    let raw: unknown;
    let source: Source = 'default';
    let origin = '';
    if (flag !== undefined) {
      raw = fromText(spec, flag, `flag ${flagName(spec.key)}`);
      source = 'flag';
      origin = `flag ${flagName(spec.key)}`;
    } else if (envValue !== undefined && envValue !== '') {
      raw = fromText(spec, envValue, `environment variable ${envName(spec.key)}`);
      source = 'env';
      origin = `environment variable ${envName(spec.key)}`;
    } else if (fileValues.has(spec.key)) {
      raw = fileValues.get(spec.key);
      source = 'file';
      origin = input.filePath ?? 'config file';
    } else {
      sources[spec.key] = 'default';
      continue;
    }
    setPath(config, spec.key, validate(spec, raw, origin));
    sources[spec.key] = source;
  }

  const known = new Set(SETTINGS.map((s) => envName(s.key)));
  for (const name of Object.keys(env)) {
    if (name.startsWith('BIZRA_') && !known.has(name) && !RESERVED_ENV.has(name)) {
      warnings.push(`environment variable ${name} names no setting and was ignored`);
    }
  }
  return { config: config as unknown as NodeConfig, sources, warnings };
}

/** Validates one value (already in its JS type) against the setting's schema. */
export function validate(spec: SettingSpec, raw: unknown, origin: string): unknown {
  const parsed = spec.schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues
    .map((i) => (i.path.length > 0 ? `item ${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  throw new ConfigError(
    `invalid value for ${spec.key} (from ${origin}): ${show(raw)}; expected ${spec.allowed} (${detail})`,
  );
}

/** Turns the text of a flag or environment variable into the setting's JS type. */
function fromText(spec: SettingSpec, value: unknown, origin: string): unknown {
  const texts = Array.isArray(value) ? value.map(String) : [String(value)];
  const text = texts[texts.length - 1] ?? '';
  switch (spec.kind) {
    case 'list':
      return texts
        .flatMap((t) => t.split(','))
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
    case 'int':
      if (!/^-?\d+$/.test(text.trim())) {
        throw new ConfigError(
          `invalid value for ${spec.key} (from ${origin}): ${show(text)}; expected ${spec.allowed}`,
        );
      }
      return Number(text.trim());
    case 'number':
      if (!/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text.trim())) {
        throw new ConfigError(
          `invalid value for ${spec.key} (from ${origin}): ${show(text)}; expected ${spec.allowed}`,
        );
      }
      return Number(text.trim());
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      throw new ConfigError(`invalid value for ${spec.key} (from ${origin}): ${show(text)}; expected ${spec.allowed}`);
    }
    default:
      return text;
  }
}

/** Flattens `[api] port = 1` into `api.port`, refusing keys no setting has. */
function flattenFile(file: Record<string, unknown>, filePath: string): Map<string, unknown> {
  const known = new Set(SETTINGS.map((s) => s.key));
  const sections = new Set(SETTINGS.filter((s) => s.key.includes('.')).map((s) => s.key.split('.')[0]));
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(file)) {
    if (sections.has(name) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [sub, v] of Object.entries(value)) {
        const key = `${name}.${sub}`;
        if (!known.has(key)) throw unknownKey(key, filePath);
        out.set(key, v);
      }
    } else if (known.has(name)) {
      out.set(name, value);
    } else {
      throw unknownKey(name, filePath);
    }
  }
  return out;
}

function unknownKey(key: string, filePath: string): ConfigError {
  const section = key.split('.')[0];
  const near = SETTINGS.filter((s) => s.key.startsWith(`${section}.`)).map((s) => s.key);
  const hint = near.length > 0 ? `; keys in [${section}]: ${near.join(', ')}` : '';
  return new ConfigError(`unknown setting ${key} in ${filePath}${hint}`);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
