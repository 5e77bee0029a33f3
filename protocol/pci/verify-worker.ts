/**
 * A VerifyPool worker: runs checkEnvelopeBare (checkEnvelope without the hex id:
 * everything but replay) on batches.
 *
 * A batch arrives as one transferred ArrayBuffer holding every envelope back to back
 * (offsets say where each starts). Answers are compact typed arrays, transferred back
 * with the batch: a status byte per envelope, the 32-byte ids and expiry times of the
 * accepted ones, and reasons for the rejected ones. Posting decoded envelopes instead
 * would cost the calling thread a structured-clone of about ten objects per envelope;
 * the pool decodes an accepted envelope from the returned bytes only if asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ed25519Verifier } from '../crypto/ed25519.ts';
import { REJECT_CODE_LIST } from './reject-codes.ts';
import { checkEnvelopeBare } from './verify.ts';
import { type BatchRequest, type BatchResponse, LOCAL_FLAG, type WorkerInit } from './verify-batch.ts';

const port = parentPort;
if (port === null) throw new Error('verify-worker.ts runs only as a worker thread (see VerifyPool)');
const init = workerData as WorkerInit;
const keys = new Ed25519Verifier({ keyCacheSize: init.keyCacheSize });
const CODE_INDEX = new Map(REJECT_CODE_LIST.map((c, i) => [c, i + 1]));

port.on('message', (req: BatchRequest) => {
  const n = req.offsets.length - 1;
  const status = new Uint8Array(n);
  const ids = new Uint8Array(32 * n);
  const expiresAtMs = new Float64Array(n);
  const reasons: string[] = [];
  for (let i = 0; i < n; i++) {
    const start = req.offsets[i]!;
    const bytes = new Uint8Array(req.buffer, start, req.offsets[i + 1]! - start);
    let r: ReturnType<typeof checkEnvelopeBare>;
    try {
      r = checkEnvelopeBare(bytes, req.nows[i]!, init.policy, keys);
    } catch (err) {
      // The same guard as EnvelopeVerifier.verify: no input may kill a worker.
      r = { ok: false, code: 'R005', reason: `envelope could not be processed: ${(err as Error)?.message}` };
    }
    if (r.ok) {
      ids.set(r.id, 32 * i);
      expiresAtMs[i] = r.expiresAtMs;
    } else {
      status[i] = CODE_INDEX.get(r.code)! | (r.local ? LOCAL_FLAG : 0);
      reasons.push(r.reason);
    }
  }
  const res: BatchResponse = {
    seq: req.seq,
    buffer: req.buffer,
    offsets: req.offsets,
    status,
    ids,
    expiresAtMs,
    reasons,
  };
  port.postMessage(res, [req.buffer, req.offsets.buffer as ArrayBuffer, status.buffer, ids.buffer, expiresAtMs.buffer]);
});
port.postMessage('ready');
