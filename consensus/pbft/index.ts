/** PBFT: the pure replica, its client, the key-value test application and the WAL contract. */
export type { PbftApp } from './app.ts';
export { defaultPbftClientOptions, PbftClient, type PbftClientOptions, type PbftClientSend } from './client.ts';
export { encodeKvOperation, KvApp, type KvOperation } from './kv-app.ts';
export { type NewViewPlan, NULL_DIGEST, planNewView } from './new-view.ts';
export { defaultPbftOptions, type PbftOptions, resolvePbftOptions } from './options.ts';
export {
  PBFT_REJECT_REASONS,
  type PbftClientReply,
  type PbftCommitted,
  type PbftEvent,
  type PbftOutcome,
  type PbftOutput,
  type PbftReceiveResult,
  type PbftRejectReason,
  type PbftSend,
  type PbftTimer,
  type PbftTimerSetting,
} from './output.ts';
export { isCommittedLocal, isPrepared, maxFaulty, primaryOf, quorumSize, weakQuorumSize } from './quorum.ts';
export { PbftReplica, type PbftReplicaConfig, type PbftReplicaModules, type PbftReplicaStatus } from './replica.ts';
export { type PbftValidatorSet, validatorSet } from './validators.ts';
export { compactWal, MemoryWal, type PbftWal, walRecordSeq } from './wal.ts';
