/** Membership: the phi-accrual failure detector and the per-peer state machine. Pure. */

export {
  compareStamps,
  defaultMembershipViewOptions,
  type HeartbeatRejectReason,
  type HeartbeatResult,
  type HeartbeatStamp,
  MembershipView,
  type MembershipViewOptions,
  PEER_STATES,
  PeerState,
  type PeerStatus,
  type ResolvedMembershipViewOptions,
  resolveMembershipViewOptions,
  type TickInput,
  type Transition,
} from './peer-state.ts';
export {
  defaultPhiAccrualOptions,
  HeartbeatHistory,
  type HeartbeatHistoryStats,
  PhiAccrualDetector,
  type PhiAccrualOptions,
  phi,
  resolvePhiAccrualOptions,
  thresholdY,
} from './phi-accrual.ts';
