/**
 * Child process of pbft-wal.test.ts: appends batches of 5 signed PREPAREs (batch b holds
 * sequence numbers 5b+1 .. 5b+5) to a LevelDB WAL as fast as it can, printing `b` after
 * each append resolved (durable), until it is killed.
 *   node node/test/pbft-wal-writer.ts <db dir>
 */
import { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { signPbft } from '../../protocol/pbft/sign.ts';
import type { PbftPrepare } from '../../protocol/pbft/types.ts';
import { PbftLevelWal } from '../consensus/pbft-wal.ts';
import { Store } from '../store/store.ts';

const signer = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
const store = await Store.open(process.argv[2]!);
const { wal } = await PbftLevelWal.open(store, 'crash-test');
const digest = new Uint8Array(32).fill(1);
for (let b = 0; ; b++) {
  const records = Array.from({ length: 5 }, (_, k) => ({
    kind: 'signed' as const,
    message: signPbft<PbftPrepare>({ type: 'prepare', view: 0, seq: 5 * b + k + 1, digest, replica: 1 }, signer),
  }));
  await wal.append(records);
  process.stdout.write(`${b}\n`);
}
