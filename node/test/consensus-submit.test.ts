/**
 * `bizra consensus submit` believes a node's "committed" only once the REPLY checks out
 * under the validator set: here a fake node (a plain HTTP server) answers with REPLYs that
 * must be refused. The real path, a daemon's own signed REPLY, is in init-chain.test.ts.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { cliFixture, freePort, run } from './cli-process.ts';
import { writeValidatorSet } from './pbft-helpers.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An HTTP server on a free port that answers every POST with `body`, counting the calls. */
async function fakeNode(body: unknown): Promise<{ port: number; calls: () => number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, calls: () => calls };
}

const forged = {
  committed: true,
  seq: 1,
  view: 0,
  result: Buffer.from('{"ok":true,"previous":"anything"}').toString('base64'),
  replica: 0,
  proof: { index: 0, count: 1, siblings: [] },
  signature: 'ab'.repeat(64),
};

describe('bizra consensus submit checks the REPLY', () => {
  const { dataDir } = cliFixture('bizra-submit-');

  it('refuses a committed answer whose REPLY the named replica did not sign: exit 1, says why', async () => {
    const dir = dataDir();
    expect((await run(['init', '--data-dir', dir])).code).toBe(0);
    const setPath = join(dir, 'set.json');
    const validator = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
    writeValidatorSet(setPath, 'fake', { checkpointInterval: 8, logWindow: 16, batchSize: 4 }, [validator.publicKey]);
    const node = await fakeNode(forged);
    const args = ['consensus', 'submit', '--data-dir', dir, '--api-port', String(node.port), '--op', 'x'];

    const checked = await run([...args, '--validator-set', setPath]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(
      "the node answered committed, but the REPLY does not verify under replica 0's key",
    );
    expect(checked.stdout).not.toContain('committed at seq');

    const junk = await fakeNode({ ...forged, replica: 3 });
    const noSuchReplica = await run([
      'consensus',
      'submit',
      '--data-dir',
      dir,
      '--api-port',
      String(junk.port),
      '--op',
      'x',
      '--validator-set',
      setPath,
    ]);
    expect(noSuchReplica.code).toBe(1);
    expect(noSuchReplica.stderr).toContain('names replica 3, and the validator set (chain fake) has 1');

    // Without a validator-set file it cannot check, and says so.
    const unchecked = await run(args);
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).toContain('REPLY not checked: no validator-set file (pass --validator-set)');
  });

  it('refuses an unreadable validator-set file before sending anything: exit 2', async () => {
    const dir = dataDir();
    expect((await run(['init', '--data-dir', dir])).code).toBe(0);
    const node = await fakeNode(forged);
    const res = await run([
      'consensus',
      'submit',
      '--data-dir',
      dir,
      '--api-port',
      String(node.port),
      '--op',
      'x',
      '--validator-set',
      join(dir, 'missing.json'),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('cannot read validator set');
    expect(node.calls()).toBe(0);
  });
});
