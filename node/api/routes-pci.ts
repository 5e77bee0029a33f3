/**
 * PCI envelopes over HTTP: submit (protobuf bytes or the JSON form), list in
 * arrival order, fetch one. A rejected envelope is a 422 whose error code is
 * the reject code (R001-R007); a submitter over its rate is a 429 with
 * Retry-After.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  decodeEnvelope,
  EnvelopeFieldError,
  envelopeToJson,
  signedEnvelopeFromJson,
} from '../../protocol/pci/index.ts';
import { RATE_LIMITED, type SubmitOutcome } from '../pci/pci-service.ts';
import { type StoredEnvelope, UnknownCursorError } from '../pci/pci-store.ts';
import { errorBody } from './errors.ts';
import type { ApiModules } from './server.ts';

export const PROTOBUF = 'application/x-protobuf';

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

export function registerPciRoutes(app: FastifyInstance, { node }: ApiModules): void {
  const maxBytes = node.pci.policy.maxEnvelopeBytes;
  // Raw envelope bytes, refused with 413 above the envelope limit before anything decodes them.
  // (The route's own bodyLimit is larger, for the base64 of the JSON form, and bounds the read.)
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_req, body, done) => {
    if (body.length <= maxBytes) return done(null, body);
    const err = new Error(`envelope is ${body.length} bytes; this node accepts at most ${maxBytes}`);
    done(Object.assign(err, { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), undefined);
  });

  app.post(
    '/v1/pci',
    {
      // JSON carries the bytes as base64 (4/3 larger) plus field names. Its
      // shape is checked by signedEnvelopeFromJson, which names the bad field.
      bodyLimit: Math.ceil(maxBytes * 1.4) + 4096,
    },
    async (request, reply) => {
      let bytes: Uint8Array;
      if (Buffer.isBuffer(request.body)) {
        bytes = new Uint8Array(request.body);
      } else {
        try {
          bytes = signedEnvelopeFromJson(request.body);
        } catch (err) {
          if (err instanceof EnvelopeFieldError) {
            return reply.status(422).send(rejection('R005', 'MALFORMED_ENVELOPE', err.message));
          }
          throw err;
        }
      }
      return answer(reply, await node.pci.submit(bytes, 'http', request.ip));
    },
  );

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/v1/pci',
    { schema: { querystring: listQuery } },
    async (request, reply) => {
      try {
        const page = await node.pciStore.list({
          limit: request.query.limit,
          ...(request.query.after ? { after: request.query.after } : {}),
        });
        return { items: page.items.map(describe), ...(page.next ? { next: page.next } : {}) };
      } catch (err) {
        if (err instanceof UnknownCursorError) return reply.status(400).send(errorBody('BAD_CURSOR', err.message));
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/v1/pci/:id', { schema: { params: idParams } }, async (request, reply) => {
    const stored = await node.pciStore.get(request.params.id);
    if (!stored)
      return reply.status(404).send(errorBody('NOT_FOUND', `no envelope ${request.params.id} is stored here`));
    if (request.headers.accept === PROTOBUF) return reply.type(PROTOBUF).send(Buffer.from(stored.bytes));
    return describe(stored);
  });
}

function answer(reply: FastifyReply, outcome: SubmitOutcome) {
  if (outcome.ok) return reply.status(outcome.stored ? 201 : 200).send({ accepted: true, id: outcome.id });
  if (outcome.code === RATE_LIMITED) {
    return reply
      .status(429)
      .header('retry-after', String(Math.max(1, Math.ceil((outcome.retryAfterMs ?? 1000) / 1000))))
      .send(errorBody(RATE_LIMITED, outcome.reason));
  }
  return reply.status(422).send(rejection(outcome.code, outcome.name, outcome.reason));
}

function rejection(code: string, name: string, reason: string) {
  return { accepted: false, error: { code, name, message: reason } };
}

/** A stored envelope for JSON answers: where it came from, and its fields. */
function describe(stored: StoredEnvelope) {
  // Read back without this node's current limits: it was accepted under the limits of its day.
  const decoded = decodeEnvelope(stored.bytes, { maxEnvelopeBytes: Number.MAX_SAFE_INTEGER });
  return {
    id: stored.id,
    seq: stored.seq,
    receivedAt: stored.receivedAt,
    source: stored.source,
    ...(stored.fromPeer ? { fromPeer: stored.fromPeer } : {}),
    envelope: decoded.ok ? envelopeToJson(decoded.envelope) : null,
  };
}
