/**
 * The `bizra` command as an operator runs it: real child processes, a temp
 * data dir, signals. Each daemon gets its own free API port.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliFixture, type Daemon, freePort, run, startDaemon } from './cli-process.ts';

/** Starts `bizra start` on loopback with its API on `apiPort`. */
function startNode(dataDir: string, apiPort: number): Promise<Daemon> {
  return startDaemon(['--data-dir', dataDir, '--api-port', String(apiPort), '--p2p-listen', '/ip4/127.0.0.1/tcp/0']);
}

describe('bizra CLI', () => {
  const { dataDir, daemons } = cliFixture('bizra-cli-');

  it('init, start, status, SIGTERM, restart with the same peer id', async () => {
    const dir = dataDir();
    const init = await run(['init', '--data-dir', dir, '--json']);
    expect(init.code).toBe(0);
    const { peerId, createdKey } = JSON.parse(init.stdout);
    expect(createdKey).toBe(true);
    expect(peerId).toMatch(/^12D3KooW/);

    // init again keeps the identity
    const again = JSON.parse((await run(['init', '--data-dir', dir, '--json'])).stdout);
    expect(again).toMatchObject({ peerId, createdKey: false });

    const id = JSON.parse((await run(['id', '--data-dir', dir, '--json'])).stdout);
    expect(id.peerId).toBe(peerId);
    expect(id.publicKey).toMatch(/^[0-9a-f]{64}$/);

    const port = await freePort();
    const first = await startNode(dir, port);
    daemons.push(first);
    const status = await run(['status', '--api-port', String(port), '--json']);
    expect(status.code).toBe(0);
    const body = JSON.parse(status.stdout);
    expect(body.health.status).toBe('ok');
    expect(body.node.peerId).toBe(peerId);
    expect(body.node.boots).toBe(1);
    const human = await run(['status', '--api-url', `http://127.0.0.1:${port}`]);
    expect(human.stdout).toMatch(/^status: {3}ok$/m);

    const peers = await run(['peers', '--api-port', String(port)]);
    expect(peers.stdout.trim()).toBe('0 peer(s) connected; membership: 0 JOINING, 0 ACTIVE, 0 SUSPECT, 0 DEAD');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"node stopped"');
    expect(existsSync(join(dir, 'bizra.lock'))).toBe(false);

    const second = await startNode(dir, port);
    daemons.push(second);
    const after = JSON.parse((await run(['status', '--api-port', String(port), '--json'])).stdout);
    expect(after.node.peerId).toBe(peerId);
    // The boot counter was written before the first SIGTERM and survived it.
    expect(after.node.boots).toBe(2);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('two shutdown signals at once (npm forwarding Ctrl-C, a process group killed) still stop gracefully', async () => {
    const dir = dataDir();
    const daemon = await startNode(dir, await freePort());
    daemon.child.kill('SIGINT');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.output()).toContain('"msg":"node stopped"');
    expect(daemon.output()).not.toContain('second signal');
    expect(existsSync(join(dir, 'bizra.lock'))).toBe(false);
  });

  it('refuses a second daemon on a locked data dir', async () => {
    const dir = dataDir();
    const daemon = await startNode(dir, await freePort());
    daemons.push(daemon);
    const second = await run(['start', '--data-dir', dir, '--api-port', String(await freePort())]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/data dir is in use: another bizra daemon \(pid \d+/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    // The first one is unharmed.
    expect(daemon.child.exitCode).toBeNull();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('a daemon killed with SIGKILL leaves a stale lock that the next start takes over', async () => {
    const dir = dataDir();
    const port = await freePort();
    const daemon = await startNode(dir, port);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    expect(existsSync(join(dir, 'bizra.lock'))).toBe(true);
    const next = await startNode(dir, port);
    daemons.push(next);
    const status = JSON.parse((await run(['status', '--api-port', String(port), '--json'])).stdout);
    expect(status.node.boots).toBe(2);
  });

  describe('bad input gets one clear line and exit code 2', () => {
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      ['unknown flag', ['start', '--bogus'], {}, /unknown option '--bogus'/],
      [
        'misspelt flag',
        ['start', '--api-prot', '1'],
        {},
        /unknown option '--api-prot'[\s\S]*Did you mean --api-port\?/,
      ],
      [
        'bad flag value',
        ['start', '--api-port', 'abc'],
        {},
        /invalid value for api\.port \(from flag --api-port\): "abc"; expected an integer from 0 to 65535/,
      ],
      [
        'bad env value',
        ['start'],
        { BIZRA_LOG_LEVEL: 'loud' },
        /invalid value for log\.level \(from environment variable BIZRA_LOG_LEVEL\)/,
      ],
      ['unknown command', ['strat'], {}, /unknown command 'strat'[\s\S]*Did you mean start\?/],
      ['missing argument', ['peers', 'connect'], {}, /missing required argument 'multiaddr'/],
    ];
    for (const [name, args, env, message] of cases) {
      it(name, async () => {
        const dir = dataDir();
        const res = await run([...args, ...(args[0] === 'start' ? ['--data-dir', dir] : [])], env);
        expect(res.code).toBe(2);
        expect(res.stderr).toMatch(message);
        expect(res.stderr).not.toMatch(/\n\s+at /);
      });
    }

    it('a bad config file names the key and the file', async () => {
      const dir = dataDir();
      await run(['init', '--data-dir', dir]);
      writeFileSync(join(dir, 'config.toml'), '[api]\nport = "nine"\n');
      const res = await run(['start', '--data-dir', dir]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/invalid value for api\.port \(from .*config\.toml\): "nine"/);
      writeFileSync(join(dir, 'config.toml'), '[p2p]\nlisen = []\n');
      const unknown = await run(['config', 'show', '--data-dir', dir]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown setting p2p\.lisen/);
    });
  });

  it('status without a daemon exits 3 and says so', async () => {
    const res = await run(['status', '--api-port', String(await freePort())]);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/no bizra daemon answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('every command has --help', async () => {
    const commands = [
      [],
      ['init'],
      ['start'],
      ['status'],
      ['peers'],
      ['peers', 'connect'],
      ['peers', 'disconnect'],
      ['id'],
      ['config', 'show'],
      ['version'],
    ];
    for (const cmd of commands) {
      const res = await run([...cmd, '--help']);
      expect(res.code, cmd.join(' ')).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`^Usage: ${['bizra', ...cmd].join(' ')} `, 'm'));
    }
    const start = await run(['start', '--help']);
    expect(start.stdout).toContain('--p2p-max-connections');
    expect(start.stdout).toContain('BIZRA_API_PORT');
  });

  it('config show reports where each setting came from', async () => {
    const dir = dataDir();
    await run(['init', '--data-dir', dir]);
    writeFileSync(join(dir, 'config.toml'), '[api]\nport = 9200\n');
    const res = await run(['config', 'show', '--data-dir', dir, '--log-level', 'debug', '--json'], {
      BIZRA_PROFILE: 'testnet',
    });
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout);
    expect(body.config.api.port).toBe(9200);
    expect(body.sources).toMatchObject({
      'api.port': 'file',
      'log.level': 'flag',
      profile: 'env',
      'api.host': 'default',
    });
  });

  it('pci sign, verify and submit an envelope end to end', async () => {
    const dir = dataDir();
    await run(['init', '--data-dir', dir]);
    const payload = join(dir, 'payload.json');
    writeFileSync(payload, '{"claim":"the sky is blue"}');
    const envFile = join(dir, 'envelope.json');
    const signed = await run([
      'pci',
      'sign',
      '--payload',
      payload,
      '--data-dir',
      dir,
      '--ihsan',
      '0.97',
      '--snr',
      '0.9',
      '--out',
      envFile,
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const id = /envelope id ([0-9a-f]{64})/.exec(signed.stderr)?.[1];
    expect(id).toBeDefined();
    const verified = await run(['pci', 'verify', envFile, '--json']);
    expect(JSON.parse(verified.stdout)).toEqual({ ok: true, id });

    const low = join(dir, 'low.json');
    await run(['pci', 'sign', '--payload', payload, '--data-dir', dir, '--ihsan', '0.5', '--out', low]);
    const lowCheck = await run(['pci', 'verify', low]);
    expect(lowCheck.code).toBe(1);
    expect(lowCheck.stdout).toMatch(/^rejected: R003 IHSAN_BELOW_THRESHOLD/);

    const port = await freePort();
    const daemon = await startNode(dir, port);
    daemons.push(daemon);
    const submitted = await run(['pci', 'submit', envFile, '--api-port', String(port)]);
    expect(submitted.code).toBe(0);
    expect(submitted.stdout.trim()).toBe(`accepted: envelope ${id}`);
    const again = await run(['pci', 'submit', envFile, '--api-port', String(port)]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^rejected: R006 REPLAYED/);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('pci sign refuses a payload that is not JSON, and a missing file, with exit 2', async () => {
    const dir = dataDir();
    await run(['init', '--data-dir', dir]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, 'not json');
    const res = await run(['pci', 'sign', '--payload', bad, '--data-dir', dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is not JSON .*pass --content-type/);
    const missing = await run(['pci', 'sign', '--payload', join(dir, 'none.json'), '--data-dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read payload .*none\.json: ENOENT/);
    const score = await run(['pci', 'sign', '--payload', bad, '--ihsan', '2']);
    expect(score.code).toBe(2);
    expect(score.stderr).toMatch(/--ihsan.*expected a number from 0 to 1/);
  });

  it('version prints the package version', async () => {
    const res = await run(['version', '--json']);
    expect(JSON.parse(res.stdout).version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
