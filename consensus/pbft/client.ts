/**
 * The client side of PBFT, pure: it signs requests with a growing timestamp, sends the
 * first copy to the primary it believes in, re-sends to every replica when no answer
 * comes in time, and accepts a result once f + 1 replicas sent the same one (at least
 * one of them is correct). One request at a time, as in the paper.
 *
 * A client of one node (`gateway`: the daemon's HTTP clients, which trust the node they
 * submit to, as consensus-service.ts answers them from its own replica's execution)
 * sends everything to that validator and takes its reply alone; the node relays the
 * request to every replica when it goes unanswered (retransmit.ts).
 */
import type { Ed25519Signer } from '../../protocol/crypto/ed25519.ts';
import { signRequest } from '../../protocol/pbft/sign.ts';
import type { PbftReply, PbftRequest } from '../../protocol/pbft/types.ts';
import { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import { primaryOf, sameDigest } from './quorum.ts';
import { type PbftValidatorSet, validatorSet } from './validators.ts';

export interface PbftClientOptions {
  /** How long to wait for f + 1 matching replies before re-sending to every replica. */
  retransmitTimeoutMs: number;
  /** The one validator this client submits through and trusts, or null for a PBFT client. */
  gateway: number | null;
}

export const defaultPbftClientOptions: Readonly<PbftClientOptions> = Object.freeze({
  retransmitTimeoutMs: 1000,
  gateway: null,
});

export interface PbftClientModules {
  readonly signer: Ed25519Signer;
  readonly verifier?: PbftVerifier;
}

export interface PbftClientSend {
  /** A validator index or 'all'. */
  readonly to: number | 'all';
  readonly message: PbftRequest;
  /** When to call onTimer if no result has come. */
  readonly retransmitAtMs: number;
}

export type PbftClientReplyOutcome =
  | { readonly accepted: true; readonly result: Uint8Array | null }
  | { readonly accepted: false; readonly reason: string };

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export class PbftClient {
  readonly validators: PbftValidatorSet;
  readonly opts: PbftClientOptions;
  readonly #signer: Ed25519Signer;
  readonly #verifier: PbftVerifier;
  #timestamp = 0;
  /** The highest view seen in a valid reply: its primary gets the next first copy. */
  #view = 0;
  #request: PbftRequest | null = null;
  /** Replies to the outstanding request: result (hex) by replica. */
  readonly #replies = new Map<number, string>();

  constructor(validators: readonly Uint8Array[], opts: Partial<PbftClientOptions>, modules: PbftClientModules) {
    this.validators = validatorSet(validators);
    this.opts = { ...defaultPbftClientOptions, ...opts };
    const g = this.opts.gateway;
    if (g !== null && !(Number.isInteger(g) && g >= 0 && g < this.validators.n)) {
      throw new RangeError(`gateway must be a validator index below ${this.validators.n}, got ${g}`);
    }
    this.#signer = modules.signer;
    this.#verifier = modules.verifier ?? new PbftVerifier();
  }

  get id(): Uint8Array {
    return this.#signer.publicKey;
  }

  /** The request waiting for its result, if any. */
  get outstanding(): PbftRequest | null {
    return this.#request;
  }

  /** Signs a request for `operation` and says where to send it. Throws if one is outstanding. */
  submit(operation: Uint8Array, nowMs: number): PbftClientSend {
    if (this.#request !== null) throw new Error('a request is still outstanding');
    this.#timestamp = Math.max(this.#timestamp + 1, Math.floor(nowMs));
    this.#request = signRequest(this.#signer, this.#timestamp, operation);
    this.#replies.clear();
    return {
      to: this.opts.gateway ?? primaryOf(this.#view, this.validators.n),
      message: this.#request,
      retransmitAtMs: nowMs + this.opts.retransmitTimeoutMs,
    };
  }

  /** No result in time: re-send to every replica, or to the gateway (null if nothing is outstanding). */
  onTimer(nowMs: number): PbftClientSend | null {
    if (this.#request === null) return null;
    const to = this.opts.gateway ?? 'all';
    return { to, message: this.#request, retransmitAtMs: nowMs + this.opts.retransmitTimeoutMs };
  }

  /**
   * A reply: accepted (result null until f + 1 replicas agree, then the result, once) or
   * refused with the reason.
   */
  receive(reply: PbftReply): PbftClientReplyOutcome {
    const request = this.#request;
    if (request === null) return { accepted: false, reason: 'no request is outstanding' };
    if (!sameDigest(reply.client, this.id) || reply.timestamp !== request.timestamp) {
      return { accepted: false, reason: 'the reply is for another request' };
    }
    const gateway = this.opts.gateway;
    if (gateway !== null && reply.replica !== gateway) {
      return { accepted: false, reason: `the reply is from replica ${reply.replica}, not the gateway ${gateway}` };
    }
    const key = this.validators.keys[reply.replica];
    if (key === undefined) return { accepted: false, reason: `replica ${reply.replica} is not a validator` };
    if (!this.#verifier.verify(reply, key)) return { accepted: false, reason: 'the reply signature does not verify' };
    if (reply.view > this.#view) this.#view = reply.view;
    this.#replies.set(reply.replica, hex(reply.result));
    const wanted = hex(reply.result);
    let matching = 0;
    for (const r of this.#replies.values()) if (r === wanted) matching++;
    if (gateway === null && matching < this.validators.f + 1) return { accepted: true, result: null };
    this.#request = null;
    this.#replies.clear();
    return { accepted: true, result: reply.result };
  }
}
