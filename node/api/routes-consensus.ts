/**
 * PBFT over HTTP: submit a client-signed request and wait for it to commit; read the
 * replica's view, primary, last executed sequence number, stable checkpoint and the
 * validator set.
 *
 * A request is the JSON form of a PBFT REQUEST: `client` (the client's raw Ed25519
 * public key, hex), `timestamp` (an integer the client makes grow with every request),
 * `operation` (base64 of the application's bytes) and `signature` (hex): the client's
 * Ed25519 signature over BLAKE3("bizra/pbft/request/v1" || 0x00 || canonical
 * PbftRequestBody) (`signRequest` in protocol/pbft/sign.ts; `bizra consensus submit`
 * signs one). The node checks the shape here (400 naming the field) and the signature
 * in the replica (400 BAD_SIGNATURE); a refused request changes nothing.
 *
 * The answer carries this replica's REPLY in a form the client can check alone: `view`,
 * `replica`, `result`, the REPLY's `proof` (its leaf's index and count in the reply tree
 * of the batch it executed in, sibling hashes in hex) and `signature` (hex) of the
 * PbftReplyRootBody the proof folds to; the timestamp is the client's own
 * (`replyRootOf` in protocol/pbft/sign.ts recomputes the root).
 */
import type { FastifyInstance } from 'fastify';
import { maxFaulty, quorumSize } from '../../consensus/pbft/quorum.ts';
import type { PbftRequest } from '../../protocol/pbft/types.ts';
import { errorBody } from './errors.ts';
import type { ApiModules } from './server.ts';

/** Largest operation accepted, in bytes. */
export const MAX_OPERATION_BYTES = 64 * 1024;

const requestBody = {
  type: 'object',
  additionalProperties: false,
  required: ['client', 'timestamp', 'operation', 'signature'],
  properties: {
    client: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    timestamp: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    operation: { type: 'string', maxLength: Math.ceil(MAX_OPERATION_BYTES / 3) * 4 },
    signature: { type: 'string', pattern: '^[0-9a-f]{128}$' },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
  },
} as const;

interface RequestBody {
  client: string;
  timestamp: number;
  operation: string;
  signature: string;
  timeoutMs?: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function registerConsensusRoutes(app: FastifyInstance, { node }: ApiModules): void {
  app.get('/v1/consensus', async () => {
    const c = node.consensus;
    if (c === undefined) return { enabled: false };
    const s = c.status();
    const n = c.set.validators.length;
    return {
      enabled: true,
      chainId: c.set.chainId,
      validator: c.isValidator,
      replica: c.isValidator ? c.index : null,
      n,
      f: maxFaulty(n),
      quorum: quorumSize(n),
      running: c.running && c.failure === null,
      ...(c.failure ? { failure: c.failure.message } : {}),
      ...(s
        ? {
            view: s.view,
            active: s.active,
            primary: s.primary,
            lastExecuted: s.lastExecuted,
            stableCheckpoint: s.stableCheckpoint,
            pendingRequests: s.pendingRequests,
            pipelineWindow: s.pipelineWindow,
            streams: c.streams(),
          }
        : {}),
      params: c.set.params,
      validators: c.set.validators.map((v, index) => ({
        index,
        publicKey: Buffer.from(v.publicKey).toString('hex'),
        peerId: v.peerId,
        addresses: v.addresses,
      })),
    };
  });

  app.post<{ Body: RequestBody }>(
    '/v1/consensus/requests',
    { schema: { body: requestBody } },
    async (request, reply) => {
      const c = node.consensus;
      if (c === undefined) {
        return reply
          .status(503)
          .send(errorBody('CONSENSUS_DISABLED', 'this node runs no consensus (consensus.validatorSet is not set)'));
      }
      const body = request.body;
      if (!BASE64.test(body.operation)) {
        return reply
          .status(400)
          .send(errorBody('BAD_REQUEST', 'body: operation must be standard base64 (with padding)'));
      }
      const operation = new Uint8Array(Buffer.from(body.operation, 'base64'));
      if (operation.length > MAX_OPERATION_BYTES) {
        return reply
          .status(400)
          .send(
            errorBody('BAD_REQUEST', `body: operation is ${operation.length} bytes; at most ${MAX_OPERATION_BYTES}`),
          );
      }
      const pbftRequest: PbftRequest = {
        type: 'request',
        client: new Uint8Array(Buffer.from(body.client, 'hex')),
        timestamp: body.timestamp,
        operation,
        signature: new Uint8Array(Buffer.from(body.signature, 'hex')),
      };
      const answer = await c.submit(pbftRequest, body.timeoutMs);
      if (!answer.ok) return reply.status(answer.status).send(errorBody(answer.code, answer.message));
      return {
        committed: true,
        seq: answer.seq,
        view: answer.view,
        result: Buffer.from(answer.result).toString('base64'),
        replica: answer.replica,
        proof: {
          index: answer.proof.index,
          count: answer.proof.count,
          siblings: answer.proof.siblings.map((s) => Buffer.from(s).toString('hex')),
        },
        signature: Buffer.from(answer.signature).toString('hex'),
      };
    },
  );
}
