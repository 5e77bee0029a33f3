import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/errors.ts';
import { readConfigFile, renderDefaultConfigFile } from '../config/file.ts';
import { resolveConfig } from '../config/resolve.ts';
import { defaultConfig, envName, flagName, SETTINGS } from '../config/schema.ts';
import { defaultDataDir } from '../paths.ts';
import { tempDir } from './helpers.ts';

describe('setting names', () => {
  it('derives flags and env vars from keys', () => {
    expect(flagName('p2p.maxConnections')).toBe('--p2p-max-connections');
    expect(envName('p2p.maxConnections')).toBe('BIZRA_P2P_MAX_CONNECTIONS');
    expect(flagName('profile')).toBe('--profile');
    expect(envName('api.port')).toBe('BIZRA_API_PORT');
  });

  it('has unique keys, flags and env names', () => {
    const keys = SETTINGS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(keys.map(flagName)).size).toBe(keys.length);
    expect(new Set(keys.map(envName)).size).toBe(keys.length);
  });

  it('every default passes its own validation', () => {
    for (const s of SETTINGS) expect(s.schema.safeParse(s.default).success, s.key).toBe(true);
  });
});

describe('resolveConfig precedence', () => {
  it('uses defaults when nothing is given', () => {
    const { config, sources } = resolveConfig({});
    expect(config).toEqual(defaultConfig());
    expect(config.api.port).toBe(9100);
    expect(config.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/9000']);
    expect(sources['api.port']).toBe('default');
  });

  it('takes flags over env over file over defaults', () => {
    const file = { api: { port: 1001, host: '::1' }, log: { level: 'debug' }, profile: 'testnet' };
    const env = { BIZRA_API_PORT: '1002', BIZRA_LOG_LEVEL: 'warn' };
    const flags = { 'api.port': '1003' };
    const { config, sources } = resolveConfig({ flags, env, file });
    expect(config.api.port).toBe(1003);
    expect(sources['api.port']).toBe('flag');
    expect(config.log.level).toBe('warn');
    expect(sources['log.level']).toBe('env');
    expect(config.api.host).toBe('::1');
    expect(sources['api.host']).toBe('file');
    expect(config.profile).toBe('testnet');
    expect(config.p2p.maxConnections).toBe(300);
  });

  it('splits list values from env on commas and accepts repeated flags', () => {
    const env = { BIZRA_P2P_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2' };
    expect(resolveConfig({ env }).config.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2']);
    const flags = { 'p2p.listen': ['/ip4/127.0.0.1/tcp/3', '/ip4/127.0.0.1/tcp/4,/ip4/127.0.0.1/tcp/5'] };
    expect(resolveConfig({ flags }).config.p2p.listen).toHaveLength(3);
  });

  it('parses fractional numbers from text', () => {
    expect(resolveConfig({ env: { BIZRA_PCI_IHSAN_THRESHOLD: '0.5' } }).config.pci.ihsanThreshold).toBe(0.5);
    expect(resolveConfig({ flags: { 'pci.rateLimitPerSecond': '2.5e1' } }).config.pci.rateLimitPerSecond).toBe(25);
  });

  it('parses booleans from text', () => {
    expect(resolveConfig({ env: { BIZRA_API_ENABLED: 'false' } }).config.api.enabled).toBe(false);
    expect(resolveConfig({ flags: { 'api.enabled': 'yes' } }).config.api.enabled).toBe(true);
  });

  it('ignores empty env values', () => {
    expect(resolveConfig({ env: { BIZRA_API_PORT: '' } }).config.api.port).toBe(9100);
  });

  it('warns about BIZRA_* variables that name no setting', () => {
    const { warnings } = resolveConfig({ env: { BIZRA_API_PROT: '1', BIZRA_DATA_DIR: '/x', HOME: '/root' } });
    expect(warnings).toEqual(['environment variable BIZRA_API_PROT names no setting and was ignored']);
  });
});

describe('resolveConfig rejects bad values with the key, the source and what is allowed', () => {
  const cases: Array<[string, Parameters<typeof resolveConfig>[0], RegExp]> = [
    [
      'non-numeric port flag',
      { flags: { 'api.port': 'abc' } },
      /api\.port \(from flag --api-port\).*"abc".*integer from 0 to 65535/,
    ],
    [
      'port out of range env',
      { env: { BIZRA_API_PORT: '70000' } },
      /api\.port \(from environment variable BIZRA_API_PORT\).*70000.*0 to 65535/,
    ],
    [
      'bad enum',
      { env: { BIZRA_LOG_LEVEL: 'loud' } },
      /log\.level.*"loud".*one of fatal, error, warn, info, debug, trace, silent/,
    ],
    [
      'bad profile in file',
      { file: { profile: 'mainnet' }, filePath: '/x/config.toml' },
      /profile \(from \/x\/config\.toml\).*one of default, testnet/,
    ],
    ['wrong type in file', { file: { api: { port: '9100' } } }, /api\.port.*"9100".*integer/],
    ['float where int', { file: { p2p: { maxConnections: 1.5 } } }, /p2p\.maxConnections.*1\.5/],
    [
      'non-numeric threshold',
      { env: { BIZRA_PCI_IHSAN_THRESHOLD: 'high' } },
      /pci\.ihsanThreshold.*"high".*a number from 0 to 1/,
    ],
    [
      'threshold above 1',
      { flags: { 'pci.snrThreshold': '1.5' } },
      /pci\.snrThreshold \(from flag --pci-snr-threshold\): 1\.5/,
    ],
    ['bad bool', { env: { BIZRA_API_ENABLED: 'maybe' } }, /api\.enabled.*"maybe".*true or false/],
    ['bad multiaddr', { flags: { 'p2p.listen': ['tcp://0.0.0.0:9000'] } }, /p2p\.listen.*multiaddr/],
    [
      'bootstrap without peer id',
      { env: { BIZRA_P2P_BOOTSTRAP: '/ip4/1.2.3.4/tcp/9000' } },
      /p2p\.bootstrap.*\/p2p\/<peer id>/,
    ],
    [
      'list given a scalar in file',
      { file: { p2p: { listen: '/ip4/0.0.0.0/tcp/1' } } },
      /p2p\.listen.*list of multiaddrs/,
    ],
  ];
  for (const [name, input, message] of cases) {
    it(name, () => {
      expect(() => resolveConfig(input)).toThrow(ConfigError);
      expect(() => resolveConfig(input)).toThrow(message);
    });
  }

  it('refuses an unknown key in the file and lists the keys of its section', () => {
    expect(() => resolveConfig({ file: { p2p: { lisen: [] } }, filePath: 'c.toml' })).toThrow(
      /unknown setting p2p\.lisen in c\.toml; keys in \[p2p\]: p2p\.listen/,
    );
    expect(() => resolveConfig({ file: { colour: 'red' } })).toThrow(/unknown setting colour/);
  });
});

describe('config file', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => {
    for (const c of dirs.splice(0)) c();
  });

  it('the file `bizra init` writes parses and resolves to the defaults', () => {
    const text = renderDefaultConfigFile();
    const parsed = parse(text) as Record<string, unknown>;
    expect(resolveConfig({ file: parsed }).config).toEqual(defaultConfig());
    // Uncommenting every line must also give the defaults (the commented values are real TOML).
    const uncommented = text.replace(/^# ([a-zA-Z]+ = .*)$/gm, '$1');
    const all = parse(uncommented) as Record<string, Record<string, unknown>>;
    expect(all.api?.port).toBe(9100);
    expect(resolveConfig({ file: all }).config).toEqual(defaultConfig());
  });

  it('reports a TOML syntax error with the file name', () => {
    const { path, cleanup } = tempDir();
    dirs.push(cleanup);
    const file = join(path, 'config.toml');
    writeFileSync(file, '[api\nport = 1\n');
    expect(() => readConfigFile(file)).toThrow(new RegExp(`${file} is not valid TOML`));
  });

  it('reports a missing file', () => {
    expect(() => readConfigFile('/nonexistent/bizra.toml')).toThrow(/does not exist/);
  });
});

describe('default data dir', () => {
  it('follows XDG_DATA_HOME, else ~/.local/share', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/data' }, '/home/a')).toBe('/data/bizra');
    expect(defaultDataDir({}, '/home/a')).toBe('/home/a/.local/share/bizra');
    // The XDG spec says a relative value is invalid and must be ignored.
    expect(defaultDataDir({ XDG_DATA_HOME: 'rel' }, '/home/a')).toBe('/home/a/.local/share/bizra');
  });
});
