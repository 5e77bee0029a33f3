/**
 * Records of a PBFT replica's write-ahead log (PbftWalRecord in proto/bizra.proto) and
 * their bytes, for a shell that keeps the log on disk (LevelDB). The replica emits them
 * in `persist` (consensus/pbft/output.ts) and reads them back in `recover`.
 */
import {
  certFrom,
  certObj,
  commitCertObj,
  encodePbftMessage,
  fields,
  finish,
  int,
  list,
  newViewFrom,
  newViewObj,
  type Obj,
  PbftWireError,
  pbftMessageFromObject,
  pbftMessageObject,
  sameBytes,
  stateTransferFrom,
  stateTransferObj,
  sub,
  TO_OBJECT,
  viewChangeFrom,
  viewChangeObj,
} from './codec.ts';
import {
  commitCertificateBytes,
  newViewRecordBytes,
  preparedCertificateBytes,
  signedMessageBytes,
  wrapAsField,
} from './normal-case-bytes.ts';
import { loadPbftTypes } from './schema.ts';
import { signedBodyBytes } from './sign.ts';
import { pbftStructureProblem } from './structure.ts';
import type {
  PbftCommit,
  PbftCommitCertificate,
  PbftNewView,
  PbftPrepare,
  PbftPreparedCertificate,
  PbftProposal,
  PbftRequest,
  PbftStateTransfer,
  PbftViewChange,
} from './types.ts';

const T = loadPbftTypes();

/** A message this replica signed and must never contradict. */
export type PbftSignedRecordMessage = PbftProposal | PbftPrepare | PbftCommit | PbftViewChange;

export type PbftWalRecord =
  /** The view this replica is in, and whether it is active there (false: waiting for NEW-VIEW). */
  | { readonly kind: 'view'; readonly view: number; readonly active: boolean }
  | { readonly kind: 'signed'; readonly message: PbftSignedRecordMessage }
  /** A prepared certificate: a VIEW-CHANGE must carry it, even after a crash. */
  | { readonly kind: 'prepared'; readonly cert: PbftPreparedCertificate }
  /** A batch this replica executed, with its commit certificate. */
  | { readonly kind: 'executed'; readonly cert: PbftCommitCertificate }
  /** A stable checkpoint: its proof and snapshot. Records at or below its sequence are obsolete. */
  | { readonly kind: 'stable'; readonly transfer: PbftStateTransfer }
  /**
   * The NEW-VIEW this replica sent or accepted, and the VIEW-CHANGEs it names (it re-sends
   * both to replicas left behind).
   */
  | { readonly kind: 'new-view'; readonly message: PbftNewView; readonly viewChanges: readonly PbftViewChange[] };

/**
 * Finds a batch that an earlier record of the log holds at `seq` with `digest`, for a
 * record written without its own (see `encodeWalRecord`'s `batchLogged`).
 */
export type LoggedBatches = (seq: number, digest: Uint8Array) => readonly PbftRequest[] | undefined;

/** The sequence number and digest of the batch a record carries, or null (it carries none, or several). */
export function walRecordBatch(
  r: PbftWalRecord,
): { seq: number; digest: Uint8Array; batch: readonly PbftRequest[] } | null {
  if (r.kind === 'signed' && r.message.type === 'proposal') {
    const pp = r.message.prePrepare;
    return { seq: pp.seq, digest: pp.digest, batch: r.message.batch };
  }
  if (r.kind === 'prepared') {
    const pp = r.cert.prePrepare;
    return { seq: pp.seq, digest: pp.digest, batch: r.cert.batch };
  }
  if (r.kind === 'executed') {
    const c = r.cert.commits[0];
    return c === undefined ? null : { seq: c.seq, digest: c.digest, batch: r.cert.batch };
  }
  return null;
}

/** Without the batch field: what a *BatchLogged member holds. */
function withoutBatch(o: Obj): Obj {
  const { batch: _batch, ...rest } = o;
  return rest;
}

function recordObject(r: PbftWalRecord, batchLogged: boolean): Obj {
  if (batchLogged && r.kind === 'prepared') return { preparedBatchLogged: withoutBatch(certObj(r.cert)) };
  if (batchLogged && r.kind === 'executed') return { executedBatchLogged: withoutBatch(commitCertObj(r.cert)) };
  switch (r.kind) {
    case 'view': {
      const view: Obj = {};
      if (r.view !== 0) view['view'] = r.view;
      if (r.active) view['active'] = true;
      return { view };
    }
    case 'signed':
      return { signed: pbftMessageObject(r.message) };
    case 'prepared':
      return { prepared: certObj(r.cert) };
    case 'executed':
      return { executed: commitCertObj(r.cert) };
    case 'stable':
      return { stable: stateTransferObj(r.transfer) };
    case 'new-view':
      return {
        newView: { newView: newViewObj(r.message), ...fields({ viewChanges: r.viewChanges.map(viewChangeObj) }) },
      };
  }
}

/**
 * The records of the normal case embed bytes already made: a signed message's frame
 * (the one sent), a batch's bytes (the ones digested).
 */
function assembledRecord(r: PbftWalRecord, batchLogged: boolean): Uint8Array | null {
  switch (r.kind) {
    case 'signed':
      return wrapAsField(2, encodePbftMessage(r.message));
    case 'prepared': {
      const c = preparedCertificateBytes(r.cert, !batchLogged);
      return c === null ? null : wrapAsField(batchLogged ? 7 : 3, c);
    }
    case 'executed': {
      const c = commitCertificateBytes(r.cert, !batchLogged);
      return c === null ? null : wrapAsField(batchLogged ? 8 : 4, c);
    }
    case 'new-view': {
      const signed = (m: PbftNewView | PbftViewChange): Uint8Array =>
        signedMessageBytes(signedBodyBytes(m), m.signature);
      return newViewRecordBytes(signed(r.message), r.viewChanges.map(signed));
    }
    default:
      return null;
  }
}

/**
 * The bytes of `r`. With `batchLogged`, a 'prepared' or 'executed' record is written
 * without its batch (as PbftPreparedProof / PbftExecutedBatchLogged): the caller
 * vouches that an earlier record of the same log holds that batch at the same sequence
 * number (`walRecordBatch`), and passes it back to `decodeWalRecord`. Other kinds ignore it.
 */
export function encodeWalRecord(r: PbftWalRecord, batchLogged = false): Uint8Array {
  const logged = batchLogged && (r.kind === 'prepared' || r.kind === 'executed');
  return assembledRecord(r, logged) ?? finish(T.walRecord.encode(recordObject(r, logged)));
}

function loggedBatch(logged: LoggedBatches | undefined, seq: number, digest: Uint8Array): readonly PbftRequest[] {
  const batch = logged?.(seq, digest);
  if (batch === undefined) {
    throw new PbftWireError(
      `WAL record refers to the batch at sequence ${seq} (digest ${Buffer.from(digest).toString('hex').slice(0, 16)}…), but no earlier record holds it`,
    );
  }
  return batch;
}

/**
 * Reads a record written by encodeWalRecord; throws PbftWireError for anything else.
 * `logged` finds the batches of records written without theirs (none found: an error).
 */
export function decodeWalRecord(bytes: Uint8Array, logged?: LoggedBatches): PbftWalRecord {
  let o: Obj;
  try {
    o = T.walRecord.toObject(T.walRecord.decode(bytes), TO_OBJECT) as Obj;
  } catch (err) {
    throw new PbftWireError(`undecodable WAL record: ${(err as Error)?.message}`);
  }
  let record: PbftWalRecord;
  if (o['view']) {
    const v = o['view'] as Obj;
    record = { kind: 'view', view: int(v, 'view', 'view record'), active: v['active'] === true };
  } else if (o['signed']) {
    const message = pbftMessageFromObject(o['signed'] as Obj);
    if (!['proposal', 'prepare', 'commit', 'view-change'].includes(message.type)) {
      throw new PbftWireError(`WAL record holds a ${message.type}, not a message this replica signs`);
    }
    const problem = pbftStructureProblem(message);
    if (problem !== null) throw new PbftWireError(problem);
    record = { kind: 'signed', message: message as PbftSignedRecordMessage };
  } else if (o['prepared']) {
    record = { kind: 'prepared', cert: certFrom(o['prepared'] as Obj) };
  } else if (o['executed']) {
    const c = o['executed'] as Obj;
    const cert = pbftMessageFromObject({ commitCertificate: c }) as PbftCommitCertificate;
    record = { kind: 'executed', cert };
  } else if (o['preparedBatchLogged']) {
    // Decoded as a certificate with an empty batch, which the logged one then replaces.
    const cert = certFrom({ ...(o['preparedBatchLogged'] as Obj), batch: {} });
    const batch = loggedBatch(logged, cert.prePrepare.seq, cert.prePrepare.digest);
    record = { kind: 'prepared', cert: { ...cert, batch } };
  } else if (o['executedBatchLogged']) {
    const c = o['executedBatchLogged'] as Obj;
    const cert = pbftMessageFromObject({ commitCertificate: { ...c, batch: {} } }) as PbftCommitCertificate;
    const first = cert.commits[0];
    if (first === undefined) throw new PbftWireError('WAL record of an executed batch holds no COMMIT');
    record = { kind: 'executed', cert: { ...cert, batch: loggedBatch(logged, first.seq, first.digest) } };
  } else if (o['stable']) {
    record = { kind: 'stable', transfer: stateTransferFrom(o['stable'] as Obj) };
  } else if (o['newView']) {
    const nv = o['newView'] as Obj;
    record = {
      kind: 'new-view',
      message: newViewFrom(sub(nv, 'newView', 'WAL new-view record')),
      viewChanges: list(nv, 'viewChanges').map(viewChangeFrom),
    };
    for (const m of [record.message, ...record.viewChanges]) {
      const problem = pbftStructureProblem(m);
      if (problem !== null) throw new PbftWireError(problem);
    }
  } else {
    throw new PbftWireError('empty WAL record');
  }
  const batchLogged = o['preparedBatchLogged'] !== undefined || o['executedBatchLogged'] !== undefined;
  if (!sameBytes(encodeWalRecord(record, batchLogged), bytes)) {
    throw new PbftWireError('WAL record is not canonically encoded');
  }
  return record;
}
