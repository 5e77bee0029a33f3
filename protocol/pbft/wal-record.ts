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
  finish,
  int,
  newViewFrom,
  newViewObj,
  type Obj,
  PbftWireError,
  pbftMessageFromObject,
  pbftMessageObject,
  sameBytes,
  stateTransferFrom,
  stateTransferObj,
  TO_OBJECT,
} from './codec.ts';
import { commitCertificateBytes, preparedCertificateBytes, wrapAsField } from './normal-case-bytes.ts';
import { loadPbftTypes } from './schema.ts';
import { pbftStructureProblem } from './structure.ts';
import type {
  PbftCommit,
  PbftCommitCertificate,
  PbftNewView,
  PbftPrepare,
  PbftPreparedCertificate,
  PbftProposal,
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
  /** The NEW-VIEW this replica sent or accepted (it re-sends it to replicas left behind). */
  | { readonly kind: 'new-view'; readonly message: PbftNewView };

function recordObject(r: PbftWalRecord): Obj {
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
      return { newView: newViewObj(r.message) };
  }
}

/**
 * The records of the normal case embed bytes already made: a signed message's frame
 * (the one sent), a batch's bytes (the ones digested).
 */
function assembledRecord(r: PbftWalRecord): Uint8Array | null {
  switch (r.kind) {
    case 'signed':
      return wrapAsField(2, encodePbftMessage(r.message));
    case 'prepared': {
      const c = preparedCertificateBytes(r.cert);
      return c === null ? null : wrapAsField(3, c);
    }
    case 'executed': {
      const c = commitCertificateBytes(r.cert);
      return c === null ? null : wrapAsField(4, c);
    }
    default:
      return null;
  }
}

export function encodeWalRecord(r: PbftWalRecord): Uint8Array {
  return assembledRecord(r) ?? finish(T.walRecord.encode(recordObject(r)));
}

/** Reads a record written by encodeWalRecord; throws PbftWireError for anything else. */
export function decodeWalRecord(bytes: Uint8Array): PbftWalRecord {
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
  } else if (o['stable']) {
    record = { kind: 'stable', transfer: stateTransferFrom(o['stable'] as Obj) };
  } else if (o['newView']) {
    record = { kind: 'new-view', message: newViewFrom(o['newView'] as Obj) };
  } else {
    throw new PbftWireError('empty WAL record');
  }
  if (!sameBytes(encodeWalRecord(record), bytes)) throw new PbftWireError('WAL record is not canonically encoded');
  return record;
}
