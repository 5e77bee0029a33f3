/**
 * A SignaturePool worker: verifies batches of Ed25519 (public key, 32-byte digest,
 * signature) triples. A batch arrives as one transferred buffer of 128-byte records
 * (key ‖ digest ‖ signature); the answer is one byte per record (1 valid, 0 not),
 * transferred back with the buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ed25519Verifier } from '../../protocol/crypto/ed25519.ts';
import { RECORD_BYTES, type SignatureAnswer, type SignatureBatch } from './signature-pool.ts';

const port = parentPort;
if (port === null) throw new Error('signature-worker.ts runs only as a worker thread (see SignaturePool)');
const keys = new Ed25519Verifier({ keyCacheSize: (workerData as { keyCacheSize: number }).keyCacheSize });

port.on('message', (req: SignatureBatch) => {
  const all = new Uint8Array(req.buffer);
  const valid = new Uint8Array(req.count);
  for (let i = 0; i < req.count; i++) {
    const at = i * RECORD_BYTES;
    // verify never throws: bad keys and signatures are just false.
    valid[i] = keys.verify(all.subarray(at, at + 32), all.subarray(at + 32, at + 64), all.subarray(at + 64, at + 128))
      ? 1
      : 0;
  }
  port.postMessage({ seq: req.seq, valid } satisfies SignatureAnswer, [valid.buffer]);
});
port.postMessage('ready');
