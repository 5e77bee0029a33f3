/**
 * The consensus service hands a burst of inputs to the replica in time slices, letting
 * I/O through between them: the batch timer that fires in between must not cut the
 * burst into small batches (it is held until the queued inputs are in), and every
 * request of the burst must execute exactly once.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeKvOperation } from '../../consensus/pbft/kv-app.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import { generateIdentity } from '../identity.ts';
import { BizraNode } from '../node.ts';
import { silentLogger, testConfig, useTempDirs } from './helpers.ts';
import { clientSigner, writeValidatorSet } from './pbft-helpers.ts';

describe('PBFT input slices', () => {
  const tempDir = useTempDirs('bizra-pbft-slices-');

  it('a burst of requests fills whole batches and each executes once', async () => {
    const root = tempDir();
    const identity = await generateIdentity();
    const setPath = join(root, 'set.json');
    writeValidatorSet(setPath, 'slices', { checkpointInterval: 128, logWindow: 256, batchSize: 64 }, [
      identity.publicKey,
    ]);
    const node = await BizraNode.create(
      {
        config: testConfig((c) => {
          c.consensus.validatorSet = setPath;
          c.consensus.batchDelayMs = 2;
        }),
        dataDir: join(root, 'n0'),
        probeGpu: false,
      },
      { identity, logger: silentLogger() },
    );
    try {
      await node.start();
      const consensus = node.consensus!;
      const sizes: number[] = [];
      const executed = new Set<string>();
      consensus.onCommitted((c) => {
        sizes.push(c.requests.length);
        for (const r of c.requests) executed.add(Buffer.from(r.client).toString('hex'));
      });
      // 200 requests, each signature check ~0.1-0.2 ms: far more than one slice, and the
      // 2 ms batch timer fires while they are being handed over.
      const requests = Array.from({ length: 200 }, (_, i) =>
        signRequest(clientSigner(i), 1, encodeKvOperation({ op: 'put', key: `k${i}`, value: 'v' })),
      );
      const answers = await Promise.all(requests.map((r) => consensus.submit(r)));
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      expect(sizes).toEqual([64, 64, 64, 8]);
      expect(executed.size).toBe(200);
    } finally {
      await node.stop();
    }
  });
});
