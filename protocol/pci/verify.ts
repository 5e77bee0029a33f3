/**
 * PCI envelope verification, in the order of the seed (§4.6) and the issue:
 *
 *   size (before decoding), decode and shape          R005 MALFORMED_ENVELOPE
 *   timestamp > now + maxFutureSkewMs                  R007 FROM_FUTURE
 *   now > timestamp + ttl                              R001 TTL_EXPIRED
 *   Ed25519 over domainDigest('bizra/pci/v1', body)    R002 INVALID_SIGNATURE
 *   ihsan_score < threshold                            R003 IHSAN_BELOW_THRESHOLD
 *   snr_score < threshold                              R004 SNR_BELOW_THRESHOLD
 *   id accepted before and not expired                 R006 REPLAYED
 *
 * R007 sits with R001 (both ask whether now lies in the envelope's validity window) and
 * before the signature: both are cheap, so stale or post-dated junk never costs a
 * verify. The two can never both apply (ttl >= 1 s and skew >= 0), so their order
 * changes no outcome; R007 goes first because a post-dated envelope's window is the
 * problem, not its age. R003/R004 come after the signature, as in the seed: a score
 * verdict is only meaningful about an authentic envelope. R006 is last so that only an
 * envelope that passed everything else is ever remembered as seen.
 *
 * The id of an envelope is the digest its signature covers, BLAKE3 of the domain tag
 * and the body: it names the content and the sender, not the signature, so the same
 * body re-signed is still a replay.
 */

import { EnvelopeWireError, splitEnvelope } from '../codec/envelope-wire.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';
import { Ed25519Verifier } from '../crypto/ed25519.ts';
import { checkFields, checkSignatureShape, type DecodedEnvelope, decodeBody, readCanonicalBody } from './fields.ts';
import { type PciPolicy, resolvePciPolicy } from './policy.ts';
import type { RejectCode } from './reject-codes.ts';
import { ReplayCache } from './replay-cache.ts';

export interface VerifyAccepted {
  ok: true;
  /** 32-byte envelope id: domainDigest('bizra/pci/v1', body bytes). */
  id: Uint8Array;
  idHex: string;
  /** timestampMs + ttlSeconds * 1000: when the envelope (and its replay-cache entry) expires. */
  expiresAtMs: number;
  envelope: DecodedEnvelope;
}

export interface VerifyRejected {
  ok: false;
  code: RejectCode;
  reason: string;
  /**
   * Set on the R005s that come from this node's own limits (maxEnvelopeBytes,
   * maxTtlSeconds): a peer with other limits may rightly have accepted the envelope,
   * so a relay should not be punished for it.
   */
  local?: true;
}

export type VerifyResult = VerifyAccepted | VerifyRejected;

type Malformed = { ok: false; code: 'R005'; reason: string; local?: true };

export type DecodeResult = { ok: true; envelope: DecodedEnvelope; bodyBytes: Uint8Array } | Malformed;

function malformed(reason: string, local?: true): Malformed {
  return local ? { ok: false, code: 'R005', reason, local } : { ok: false, code: 'R005', reason };
}

/**
 * The R005 stage alone: size, wire layout, body decoding, canonical form, field rules
 * and the policy's TTL limit. Never throws. Also what a store uses to read back the
 * wire bytes it kept (and what a VerifyPool uses to decode an accepted envelope).
 */
export function decodeEnvelope(
  bytes: Uint8Array,
  policy: Pick<PciPolicy, 'maxEnvelopeBytes' | 'maxTtlSeconds'>,
): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return malformed('envelope must be bytes');
  if (bytes.length > policy.maxEnvelopeBytes) {
    return malformed(`envelope is ${bytes.length} bytes; the limit is ${policy.maxEnvelopeBytes}`, true);
  }
  let parts: ReturnType<typeof splitEnvelope>;
  try {
    parts = splitEnvelope(bytes);
  } catch (err) {
    return malformed(err instanceof EnvelopeWireError ? err.message : 'undecodable envelope');
  }
  const sigProblem = checkSignatureShape(parts.signature);
  if (sigProblem !== null) return malformed(sigProblem);
  // The fast path: one strict pass that accepts exactly the canonical encoding of
  // valid fields (what decoding, checking and re-encoding would accept).
  const fields = readCanonicalBody(parts.body);
  if (fields === null) return explainBody(parts.body, policy);
  if (policy.maxTtlSeconds !== undefined && fields.ttlSeconds > policy.maxTtlSeconds) {
    return tooLong(fields.ttlSeconds, policy.maxTtlSeconds);
  }
  return { ok: true, envelope: { ...fields, signature: parts.signature }, bodyBytes: parts.body };
}

function tooLong(ttlSeconds: number, maxTtlSeconds: number): Malformed {
  return malformed(`ttlSeconds: ${ttlSeconds} exceeds this node's limit of ${maxTtlSeconds}`, true);
}

/**
 * Why readCanonicalBody refused a body, found the slow way: decode leniently
 * (protobufjs), check the fields, then re-encode and compare. The first problem this
 * finds is the answer, so the reasons (and which R005s are `local`) are what they were
 * before the strict reader existed: a broken field rule before the node's TTL limit
 * before non-canonical bytes. Only refused bodies come here.
 */
function explainBody(body: Uint8Array, policy: Pick<PciPolicy, 'maxTtlSeconds'>): Malformed {
  let fields: ReturnType<typeof decodeBody>;
  try {
    fields = decodeBody(body);
  } catch (err) {
    return malformed(`body is not a valid EnvelopeBody: ${(err as Error).message}`);
  }
  const problem = checkFields(fields);
  if (problem !== null) return malformed(problem);
  if (policy.maxTtlSeconds !== undefined && fields.ttlSeconds > policy.maxTtlSeconds) {
    return tooLong(fields.ttlSeconds, policy.maxTtlSeconds);
  }
  // Valid fields, so the bytes were not written the one canonical way: unknown,
  // duplicate or out-of-order fields, explicit defaults or padded varints. (Also the
  // answer should the two paths ever disagree: the strict reader decides.)
  return malformed('body is not canonically encoded (unknown, repeated or out-of-order fields, or explicit defaults)');
}

/** An accepted result without its hex id, which a VerifyPool worker has no use for. */
export type CheckedEnvelope = Omit<VerifyAccepted, 'idHex'>;

/**
 * Every check but replay (R005, R007, R001, R002, R003, R004). Stateless apart from
 * the key cache inside `keys`, so worker threads run it in parallel.
 */
export function checkEnvelope(
  bytes: Uint8Array,
  nowMs: number,
  policy: Readonly<PciPolicy>,
  keys: Ed25519Verifier,
): VerifyResult {
  const r = checkEnvelopeBare(bytes, nowMs, policy, keys);
  if (!r.ok) return r;
  return {
    ok: true,
    id: r.id,
    idHex: Buffer.from(r.id).toString('hex'),
    expiresAtMs: r.expiresAtMs,
    envelope: r.envelope,
  };
}

/** checkEnvelope, but an accepted result has no `idHex` (what VerifyPool workers run). */
export function checkEnvelopeBare(
  bytes: Uint8Array,
  nowMs: number,
  policy: Readonly<PciPolicy>,
  keys: Ed25519Verifier,
): CheckedEnvelope | VerifyRejected {
  const decoded = decodeEnvelope(bytes, policy);
  if (!decoded.ok) return decoded;
  const e = decoded.envelope;
  if (e.timestampMs > nowMs + policy.maxFutureSkewMs) {
    return {
      ok: false,
      code: 'R007',
      reason: `timestampMs ${e.timestampMs} is ${e.timestampMs - nowMs} ms ahead of this node's clock (allowed: ${policy.maxFutureSkewMs} ms)`,
    };
  }
  const expiresAtMs = e.timestampMs + e.ttlSeconds * 1000;
  if (nowMs > expiresAtMs) {
    return {
      ok: false,
      code: 'R001',
      reason: `expired ${nowMs - expiresAtMs} ms ago (timestampMs ${e.timestampMs} + ttl ${e.ttlSeconds} s)`,
    };
  }
  const id = domainDigest(DOMAINS.PCI_ENVELOPE, decoded.bodyBytes);
  if (!keys.verify(e.senderPublicKey, id, e.signature)) {
    return { ok: false, code: 'R002', reason: 'the signature does not verify against senderPublicKey' };
  }
  if (e.ihsanScore < policy.ihsanThreshold) {
    return { ok: false, code: 'R003', reason: `ihsanScore ${e.ihsanScore} is below ${policy.ihsanThreshold}` };
  }
  if (e.snrScore < policy.snrThreshold) {
    return { ok: false, code: 'R004', reason: `snrScore ${e.snrScore} is below ${policy.snrThreshold}` };
  }
  return { ok: true, id, expiresAtMs, envelope: e };
}

export interface EnvelopeVerifierModules {
  /** Shared with whatever else must see the same ids (a relay and a submit path); else one of its own. */
  replay?: ReplayCache;
  keys?: Ed25519Verifier;
}

export interface VerifyOptions {
  /**
   * Remember an accepted envelope's id (default true). A relay that must check first
   * and commit later passes false, then calls markSeen once it has taken the envelope.
   */
  record?: boolean;
}

/** Full verification, replay included; holds the replay cache and the public-key cache. */
export class EnvelopeVerifier {
  readonly policy: Readonly<PciPolicy>;
  readonly replay: ReplayCache;
  readonly #keys: Ed25519Verifier;

  constructor(policy: Partial<PciPolicy> = {}, modules: EnvelopeVerifierModules = {}) {
    this.policy = resolvePciPolicy(policy);
    this.replay = modules.replay ?? new ReplayCache();
    this.#keys = modules.keys ?? new Ed25519Verifier();
  }

  /**
   * Verifies wire bytes at time `nowMs` (Unix ms). Never throws on any `bytes`;
   * throws TypeError only if `nowMs` is not a finite number (a caller bug: every
   * time comparison would silently pass).
   */
  verify(bytes: Uint8Array, nowMs: number, opts: VerifyOptions = {}): VerifyResult {
    if (!Number.isFinite(nowMs)) throw new TypeError(`nowMs must be a finite number, got ${nowMs}`);
    let result: VerifyResult;
    try {
      result = checkEnvelope(bytes, nowMs, this.policy, this.#keys);
    } catch (err) {
      // Not reached by any input the tests know of; a guard so that no byte string
      // can take a daemon down through a bug found later.
      return malformed(`envelope could not be processed: ${(err as Error)?.message ?? String(err)}`);
    }
    return this.applyReplay(result, nowMs, opts);
  }

  /** The replay stage (R006) for a result checked elsewhere, e.g. by a VerifyPool worker. */
  applyReplay(result: VerifyResult, nowMs: number, opts: VerifyOptions = {}): VerifyResult {
    if (!result.ok) return result;
    if (this.replay.has(result.idHex, nowMs)) {
      return { ok: false, code: 'R006', reason: `envelope ${result.idHex} was already accepted` };
    }
    if (opts.record ?? true) this.replay.add(result.idHex, result.expiresAtMs, nowMs);
    return result;
  }

  /** Whether an id is remembered as accepted and unexpired. */
  isSeen(idHex: string, nowMs: number): boolean {
    return this.replay.has(idHex, nowMs);
  }

  /** Remembers an accepted id (the commit half of verify(..., { record: false })). */
  markSeen(idHex: string, expiresAtMs: number, nowMs: number): void {
    this.replay.add(idHex, expiresAtMs, nowMs);
  }
}
