/**
 * `bizra init --chain-id ID`: a one-validator set for this node and a config that names
 * it, so that `bizra init --chain-id dev && bizra start` runs a one-node PBFT chain. Real
 * child processes, as an operator runs them; every refusal exits 2 and changes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../config/file.ts';
import { cliFixture, freePort, run, startDaemon } from './cli-process.ts';

describe('bizra init --chain-id', () => {
  const { dataDir, daemons } = cliFixture('bizra-init-chain-');

  it('writes a one-validator set and a config naming it; bizra start then commits requests alone', async () => {
    const dir = dataDir();
    const init = await run(['init', '--data-dir', dir, '--chain-id', 'dev', '--json']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const out = JSON.parse(init.stdout);
    expect(out).toMatchObject({
      chainId: 'dev',
      validatorSet: join(dir, 'validator-set.json'),
      createdKey: true,
      createdConfig: true,
      createdValidatorSet: true,
    });
    const id = JSON.parse((await run(['id', '--data-dir', dir, '--json'])).stdout);
    const setText = readFileSync(join(dir, 'validator-set.json'), 'utf8');
    const set = JSON.parse(setText);
    expect(set.chainId).toBe('dev');
    expect(set.validators).toEqual([{ publicKey: id.publicKey, peerId: id.peerId, addresses: [] }]);
    const configText = readFileSync(join(dir, 'config.toml'), 'utf8');
    expect(readConfigFile(join(dir, 'config.toml'))['consensus']).toEqual({ validatorSet: 'validator-set.json' });

    // Running it again keeps everything, byte for byte.
    const again = await run(['init', '--data-dir', dir, '--chain-id', 'dev', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ createdKey: false, createdValidatorSet: false });
    expect(readFileSync(join(dir, 'validator-set.json'), 'utf8')).toBe(setText);
    expect(readFileSync(join(dir, 'config.toml'), 'utf8')).toBe(configText);

    const port = await freePort();
    const daemon = await startDaemon([
      '--data-dir',
      dir,
      '--api-port',
      String(port),
      '--p2p-listen',
      '/ip4/127.0.0.1/tcp/0',
    ]);
    daemons.push(daemon);
    const api = ['--api-port', String(port)];
    const put = await run([
      'consensus',
      'submit',
      '--data-dir',
      dir,
      ...api,
      '--op',
      '{"op":"put","key":"k","value":"v1"}',
    ]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(put.stdout).toContain('committed at seq 1 in view 0 (replica 0)');
    // The data dir's config names the set, so the daemon's signed REPLY is checked against it.
    expect(put.stdout).toContain('REPLY signed by replica 0 of chain dev: checked');
    const get = await run(['consensus', 'submit', '--data-dir', dir, ...api, '--op', '{"op":"get","key":"k"}']);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('"value":"v1"');
    const status = JSON.parse((await run(['consensus', 'status', ...api, '--json'])).stdout);
    expect(status).toMatchObject({ chainId: 'dev', replica: 0, n: 1, f: 0, primary: 0, lastExecuted: 2 });
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('refuses a bad chain id, a conflicting set file, a config naming no set, and --validator-set alone: exit 2, nothing changed', async () => {
    const fresh = dataDir();
    const bad = await run(['init', '--data-dir', fresh, '--chain-id', 'no spaces']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--chain-id "no spaces": a chain id is 1 to 64 characters');
    expect(existsSync(fresh)).toBe(false);

    const alone = await run(['init', '--data-dir', fresh, '--validator-set', 'x.json']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--validator-set needs --chain-id');
    expect(existsSync(fresh)).toBe(false);

    // A set for one chain is there: another chain id is refused, the file kept.
    const dir = dataDir();
    expect((await run(['init', '--data-dir', dir, '--chain-id', 'dev'])).code).toBe(0);
    const setText = readFileSync(join(dir, 'validator-set.json'), 'utf8');
    const other = await run(['init', '--data-dir', dir, '--chain-id', 'other']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('is not the one-validator set of this node for chain other (it is chain dev');
    expect(readFileSync(join(dir, 'validator-set.json'), 'utf8')).toBe(setText);

    // Another file next to it would need the config to name it: init keeps config files.
    const moved = await run(['init', '--data-dir', dir, '--chain-id', 'other', '--validator-set', 'other.json']);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain('its consensus.validatorSet is "validator-set.json"');
    expect(existsSync(join(dir, 'other.json'))).toBe(false);

    // A node initialised without a chain: its config names no set, so init refuses to write one.
    const plain = dataDir();
    expect((await run(['init', '--data-dir', plain])).code).toBe(0);
    const configText = readFileSync(join(plain, 'config.toml'), 'utf8');
    const late = await run(['init', '--data-dir', plain, '--chain-id', 'dev']);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('its consensus.validatorSet is not set');
    expect(late.stderr).toContain('set validatorSet = "validator-set.json" under [consensus]');
    expect(existsSync(join(plain, 'validator-set.json'))).toBe(false);
    expect(readFileSync(join(plain, 'config.toml'), 'utf8')).toBe(configText);
  });
});
