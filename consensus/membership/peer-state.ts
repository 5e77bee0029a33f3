/**
 * The membership view: one state machine per remote peer, driven by heartbeats and by
 * the caller's clock. Pure: no timers, no I/O, no Date.now(). The daemon calls
 * `onHeartbeat` for every heartbeat that passed the topic validator and `tick` on its
 * own timer, and turns the returned transitions into metrics and logs.
 *
 *   (new) ──first heartbeat──▶ JOINING ──activeAfterHeartbeats regular heartbeats──▶ ACTIVE
 *   JOINING, ACTIVE ──φ ≥ threshold (tick)──▶ SUSPECT ──suspect for deadAfterMs (tick)──▶ DEAD
 *   SUSPECT ──heartbeat, same incarnation──▶ ACTIVE (JOINING if it never got to ACTIVE)
 *   any state ──heartbeat with a higher incarnation──▶ JOINING (fresh detector history)
 *
 * Local pauses (see `tick`): when the caller reports that this process itself stalled
 * for longer than the acceptable heartbeat pause, that tick convicts nobody and the
 * stall is taken out of every peer's time since its last heartbeat.
 */
import {
  defaultPhiAccrualOptions,
  PhiAccrualDetector,
  type PhiAccrualOptions,
  resolvePhiAccrualOptions,
} from './phi-accrual.ts';

export const PeerState = {
  JOINING: 'JOINING',
  ACTIVE: 'ACTIVE',
  SUSPECT: 'SUSPECT',
  DEAD: 'DEAD',
} as const;
export type PeerState = (typeof PeerState)[keyof typeof PeerState];

/** Every state, in lifecycle order (for metrics that must report zeros too). */
export const PEER_STATES: readonly PeerState[] = Object.freeze(['JOINING', 'ACTIVE', 'SUSPECT', 'DEAD'] as const);

export interface MembershipViewOptions {
  /** The failure detector's options (defaultPhiAccrualOptions for what is left out). */
  phi: Partial<PhiAccrualOptions>;
  /** Regular heartbeats (arriving while φ < threshold) that take a JOINING peer to ACTIVE; the first counts. */
  activeAfterHeartbeats: number;
  /** How long a peer stays SUSPECT before it is DEAD. */
  deadAfterMs: number;
}

/** The options a view runs with: every detector option filled in. */
export interface ResolvedMembershipViewOptions extends Omit<MembershipViewOptions, 'phi'> {
  phi: Readonly<PhiAccrualOptions>;
}

export const defaultMembershipViewOptions: Readonly<ResolvedMembershipViewOptions> = Object.freeze({
  phi: defaultPhiAccrualOptions,
  activeAfterHeartbeats: 3,
  deadAfterMs: 20_000,
});

/** Fills in defaults and checks every option; throws a RangeError that names the bad one. */
export function resolveMembershipViewOptions(
  opts: Partial<MembershipViewOptions> = {},
): Readonly<ResolvedMembershipViewOptions> {
  const o: ResolvedMembershipViewOptions = {
    phi: Object.freeze(resolvePhiAccrualOptions(opts.phi ?? {})),
    activeAfterHeartbeats: opts.activeAfterHeartbeats ?? defaultMembershipViewOptions.activeAfterHeartbeats,
    deadAfterMs: opts.deadAfterMs ?? defaultMembershipViewOptions.deadAfterMs,
  };
  if (!Number.isSafeInteger(o.activeAfterHeartbeats) || o.activeAfterHeartbeats < 1) {
    throw new RangeError(
      `membership option activeAfterHeartbeats must be an integer >= 1, got ${o.activeAfterHeartbeats}`,
    );
  }
  if (typeof o.deadAfterMs !== 'number' || !Number.isFinite(o.deadAfterMs) || o.deadAfterMs < 0) {
    throw new RangeError(`membership option deadAfterMs must be a finite number >= 0, got ${o.deadAfterMs}`);
  }
  return Object.freeze(o);
}

/** What a heartbeat carries that the state machine reads. Both are non-negative safe integers. */
export interface HeartbeatStamp {
  /** Grows at every restart of the sender. */
  incarnation: number;
  /** Grows with every heartbeat within one incarnation. */
  sequence: number;
}

export interface Transition {
  peerId: string;
  from: PeerState;
  to: PeerState;
  atMs: number;
  /** φ at atMs, before the heartbeat that caused the transition (if one did). */
  phi: number;
  /**
   * atMs minus the time the last heartbeat was received (before this one), in real time:
   * on ACTIVE→SUSPECT it is the detection latency.
   */
  sinceLastHeartbeatMs: number;
}

export interface PeerStatus {
  peerId: string;
  state: PeerState;
  phi: number;
  /** When the last accepted heartbeat was received (the caller's clock). */
  lastHeartbeatMs: number;
  incarnation: number;
  sequence: number;
  /** When the peer became SUSPECT (present only while it is SUSPECT). */
  suspectSinceMs?: number;
}

/**
 * Why a heartbeat changed nothing:
 * - `self`: it claims to come from this node;
 * - `invalid`: incarnation or sequence is not a non-negative safe integer;
 * - `replayed`: the same (incarnation, sequence) as the last accepted one;
 * - `stale`: a lower (incarnation, sequence), compared lexicographically;
 * - `stale-incarnation`: the peer is DEAD and the heartbeat does not carry a higher
 *   incarnation (a dead peer rejoins only as a new incarnation).
 */
export type HeartbeatRejectReason = 'self' | 'invalid' | 'replayed' | 'stale' | 'stale-incarnation';

export interface HeartbeatResult {
  accepted: boolean;
  reason?: HeartbeatRejectReason;
  /** Present when this heartbeat changed the peer's state. */
  transition?: Transition;
  /**
   * The first heartbeat from a peer not in the view: it enters as JOINING, which is not a
   * transition (no `from`). With activeAfterHeartbeats = 1 it goes straight on to ACTIVE,
   * reported as the transition JOINING→ACTIVE.
   */
  newPeer?: true;
}

export interface TickInput {
  /**
   * How long this process could not run (event-loop lag, GC, a suspended VM) since the
   * previous tick, as the caller measured it. Above acceptableHeartbeatPauseMs it is a
   * local pause: see MembershipView.tick.
   */
  localPauseMs?: number;
}

interface PeerRecord {
  peerId: string;
  state: PeerState;
  detector: PhiAccrualDetector;
  /** Real receive time of the last accepted heartbeat. */
  lastHeartbeatMs: number;
  incarnation: number;
  sequence: number;
  /** Real time the peer became SUSPECT. */
  suspectSinceMs: number | undefined;
  /** The same, moved forward by local pauses: what the DEAD deadline counts from. */
  suspectClockMs: number | undefined;
  /** Consecutive regular heartbeats while JOINING. */
  regularHeartbeats: number;
  /** Whether the peer reached ACTIVE in its current incarnation. */
  wasActive: boolean;
}

export class MembershipView {
  readonly options: Readonly<ResolvedMembershipViewOptions>;
  readonly selfId: string;
  readonly #peers = new Map<string, PeerRecord>();
  /** The latest time the caller has shown us; φ in get()/all() is computed at it by default. */
  #nowMs = Number.NEGATIVE_INFINITY;
  /**
   * No peer can change state before this time without a heartbeat (a lower bound: the
   * earliest φ crossing or DEAD deadline seen at the last full pass, lowered by every
   * heartbeat since). A tick before it returns at once: a node ticks ten times a second
   * but a healthy federation needs a pass only every few seconds, and a pass is O(peers).
   */
  #nextDueMs = Number.NEGATIVE_INFINITY;

  constructor(opts: Partial<MembershipViewOptions>, selfId: string) {
    this.options = resolveMembershipViewOptions(opts);
    this.selfId = selfId;
  }

  get size(): number {
    return this.#peers.size;
  }

  /**
   * No peer changes state before this time unless a heartbeat arrives (a lower bound; it
   * may be in the past, then the next tick makes a full pass). Lets a caller that ticks
   * on a coarse timer add one tick at the moment a peer becomes due.
   */
  get nextDueMs(): number {
    return this.#nextDueMs;
  }

  /** Applies one (already verified) heartbeat received at nowMs. */
  onHeartbeat(peerId: string, stamp: HeartbeatStamp, nowMs: number): HeartbeatResult {
    checkTime(nowMs);
    this.#see(nowMs);
    if (peerId === this.selfId) return { accepted: false, reason: 'self' };
    const { incarnation, sequence } = stamp;
    if (!isCounter(incarnation) || !isCounter(sequence)) return { accepted: false, reason: 'invalid' };

    const rec = this.#peers.get(peerId);
    if (rec === undefined) {
      const fresh: PeerRecord = {
        peerId,
        state: PeerState.JOINING,
        detector: new PhiAccrualDetector(this.options.phi),
        lastHeartbeatMs: nowMs,
        incarnation,
        sequence,
        suspectSinceMs: undefined,
        suspectClockMs: undefined,
        regularHeartbeats: 1,
        wasActive: false,
      };
      fresh.detector.heartbeat(nowMs);
      this.#maybeActivate(fresh);
      this.#peers.set(peerId, fresh);
      this.#lowerNextDue(fresh);
      if (fresh.state === PeerState.JOINING) return { accepted: true, newPeer: true };
      return {
        accepted: true,
        newPeer: true,
        transition: { peerId, from: PeerState.JOINING, to: fresh.state, atMs: nowMs, phi: 0, sinceLastHeartbeatMs: 0 },
      };
    }

    const order = compareStamps(incarnation, sequence, rec.incarnation, rec.sequence);
    if (order === 0) return { accepted: false, reason: 'replayed' };
    if (order < 0) return { accepted: false, reason: 'stale' };

    const from = rec.state;
    // φ only matters when the state may change (it is reported with the transition);
    // an ACTIVE peer's next heartbeat, the common case, needs none.
    const steady = from === PeerState.ACTIVE && incarnation === rec.incarnation;
    const phiBefore = steady ? 0 : rec.detector.phi(nowMs);
    const sinceLastHeartbeatMs = nowMs - rec.lastHeartbeatMs;

    if (incarnation > rec.incarnation) {
      // A restart: whatever we knew about the old process no longer applies.
      rec.detector.reset();
      rec.detector.heartbeat(nowMs);
      rec.state = PeerState.JOINING;
      rec.regularHeartbeats = 1;
      rec.wasActive = false;
      this.#clearSuspicion(rec);
      this.#maybeActivate(rec);
    } else {
      if (from === PeerState.DEAD) return { accepted: false, reason: 'stale-incarnation' };
      const regular = phiBefore < this.options.phi.threshold;
      rec.detector.heartbeat(nowMs);
      if (from === PeerState.JOINING) {
        rec.regularHeartbeats = regular ? rec.regularHeartbeats + 1 : 1;
        this.#maybeActivate(rec);
      } else if (from === PeerState.SUSPECT) {
        this.#clearSuspicion(rec);
        if (rec.wasActive) {
          rec.state = PeerState.ACTIVE;
        } else {
          rec.state = PeerState.JOINING;
          rec.regularHeartbeats = 1;
          this.#maybeActivate(rec);
        }
      }
    }
    rec.incarnation = incarnation;
    rec.sequence = sequence;
    rec.lastHeartbeatMs = Math.max(rec.lastHeartbeatMs, nowMs);
    // A heartbeat usually moves the crossing later, but a shorter interval can lower
    // the mean enough to move it earlier: the bound must follow it down.
    this.#lowerNextDue(rec);

    if (rec.state === from) return { accepted: true };
    return {
      accepted: true,
      transition: { peerId, from, to: rec.state, atMs: nowMs, phi: phiBefore, sinceLastHeartbeatMs },
    };
  }

  /**
   * Advances the failure detection to nowMs: JOINING/ACTIVE peers whose φ reached the
   * threshold become SUSPECT, and peers SUSPECT for deadAfterMs become DEAD. Returns every
   * transition, in the order the peers were first seen.
   *
   * Local pause rule (after Cassandra's FailureDetector, which refuses to convict after a
   * local pause): if `localPauseMs` exceeds acceptableHeartbeatPauseMs, this process itself
   * was not listening, so silence during that time says nothing about the peers. This tick
   * then convicts nobody, and every peer's last-heartbeat time (as the detector counts it)
   * and SUSPECT clock that predate the pause are moved forward by the pause, so the next
   * ticks do not convict either: time since the last heartbeat is measured in time this
   * process was able to listen. Heartbeats that queued up during the pause and were
   * received after it are not moved, and do not enter the interval statistics if φ was
   * already over the threshold (Akka's rule). Pauses up to acceptableHeartbeatPauseMs are
   * not compensated: absorbing them is what the acceptable pause is for.
   */
  tick(nowMs: number, input: TickInput = {}): Transition[] {
    checkTime(nowMs);
    this.#see(nowMs);
    const pause = input.localPauseMs ?? 0;
    if (typeof pause !== 'number' || !Number.isFinite(pause) || pause < 0) {
      throw new RangeError(`localPauseMs must be a finite number >= 0, got ${String(pause)}`);
    }
    if (pause > this.options.phi.acceptableHeartbeatPauseMs) {
      for (const rec of this.#peers.values()) {
        if (rec.state === PeerState.DEAD) continue;
        rec.detector.compensatePause(nowMs, pause);
        if (rec.suspectClockMs !== undefined && rec.suspectClockMs + pause <= nowMs) rec.suspectClockMs += pause;
      }
      this.#nextDueMs = Number.NEGATIVE_INFINITY;
      return [];
    }
    if (nowMs < this.#nextDueMs) return [];

    const transitions: Transition[] = [];
    this.#nextDueMs = Number.POSITIVE_INFINITY;
    for (const rec of this.#peers.values()) {
      if (rec.state === PeerState.DEAD) continue;
      const live = rec.state === PeerState.JOINING || rec.state === PeerState.ACTIVE;
      // Most peers are live and well: isAvailable answers them without computing φ.
      if (live && rec.detector.isAvailable(nowMs)) {
        this.#lowerNextDue(rec);
        continue;
      }
      const phiNow = rec.detector.phi(nowMs);
      const base = { peerId: rec.peerId, atMs: nowMs, phi: phiNow, sinceLastHeartbeatMs: nowMs - rec.lastHeartbeatMs };
      if (live) {
        transitions.push({ ...base, from: rec.state, to: PeerState.SUSPECT });
        rec.state = PeerState.SUSPECT;
        rec.suspectSinceMs = nowMs;
        rec.suspectClockMs = nowMs;
      }
      if (rec.state === PeerState.SUSPECT && nowMs - rec.suspectClockMs! >= this.options.deadAfterMs) {
        transitions.push({ ...base, from: PeerState.SUSPECT, to: PeerState.DEAD });
        rec.state = PeerState.DEAD;
        this.#clearSuspicion(rec);
      }
      this.#lowerNextDue(rec);
    }
    return transitions;
  }

  /** Brings #nextDueMs down to when `rec` could next change state without a heartbeat. */
  #lowerNextDue(rec: PeerRecord): void {
    let due: number;
    if (rec.state === PeerState.JOINING || rec.state === PeerState.ACTIVE) due = rec.detector.availableUntilMs();
    else if (rec.state === PeerState.SUSPECT) due = rec.suspectClockMs! + this.options.deadAfterMs;
    else return;
    if (due < this.#nextDueMs) this.#nextDueMs = due;
  }

  /** Forgets a peer; returns whether it was known. */
  remove(peerId: string): boolean {
    return this.#peers.delete(peerId);
  }

  /** One peer's status, with φ at nowMs (default: the latest time passed to this view). */
  get(peerId: string, nowMs?: number): PeerStatus | undefined {
    const rec = this.#peers.get(peerId);
    return rec === undefined ? undefined : this.#status(rec, this.#at(nowMs));
  }

  /** Every known peer, in the order first seen, with φ at nowMs (default: the latest time seen). */
  all(nowMs?: number): PeerStatus[] {
    const at = this.#at(nowMs);
    return [...this.#peers.values()].map((rec) => this.#status(rec, at));
  }

  counts(): Record<PeerState, number> {
    const counts: Record<PeerState, number> = { JOINING: 0, ACTIVE: 0, SUSPECT: 0, DEAD: 0 };
    for (const rec of this.#peers.values()) counts[rec.state]++;
    return counts;
  }

  #status(rec: PeerRecord, atMs: number): PeerStatus {
    const status: PeerStatus = {
      peerId: rec.peerId,
      state: rec.state,
      phi: rec.detector.phi(atMs),
      lastHeartbeatMs: rec.lastHeartbeatMs,
      incarnation: rec.incarnation,
      sequence: rec.sequence,
    };
    if (rec.suspectSinceMs !== undefined) status.suspectSinceMs = rec.suspectSinceMs;
    return status;
  }

  #maybeActivate(rec: PeerRecord): void {
    if (rec.state === PeerState.JOINING && rec.regularHeartbeats >= this.options.activeAfterHeartbeats) {
      rec.state = PeerState.ACTIVE;
      rec.wasActive = true;
    }
  }

  #clearSuspicion(rec: PeerRecord): void {
    rec.suspectSinceMs = undefined;
    rec.suspectClockMs = undefined;
  }

  #see(nowMs: number): void {
    if (nowMs > this.#nowMs) this.#nowMs = nowMs;
  }

  #at(nowMs: number | undefined): number {
    if (nowMs !== undefined) {
      checkTime(nowMs);
      return nowMs;
    }
    return Number.isFinite(this.#nowMs) ? this.#nowMs : 0;
  }
}

/** Lexicographic order of (incarnation, sequence): negative, 0 or positive. */
export function compareStamps(incA: number, seqA: number, incB: number, seqB: number): number {
  if (incA !== incB) return incA < incB ? -1 : 1;
  if (seqA !== seqB) return seqA < seqB ? -1 : 1;
  return 0;
}

function isCounter(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkTime(nowMs: number): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new TypeError(`time must be a finite number of milliseconds, got ${String(nowMs)}`);
  }
}
