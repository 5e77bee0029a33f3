/** /v1/node and /v1/peers: who this node is and whom it is connected to. */
import type { FastifyInstance } from 'fastify';
import { NodeError } from '../errors.ts';
import { errorBody } from './errors.ts';
import type { ApiModules } from './server.ts';

const connectBody = {
  type: 'object',
  required: ['multiaddr'],
  additionalProperties: false,
  properties: {
    multiaddr: { type: 'string', minLength: 3, maxLength: 1024, pattern: '^/' },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
  },
} as const;

const peerParams = {
  type: 'object',
  required: ['peerId'],
  properties: { peerId: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** How a NodeError code maps to an HTTP status. */
const STATUS: Record<string, number> = {
  BAD_MULTIADDR: 400,
  BAD_PEER_ID: 400,
  SELF_DIAL: 400,
  DIAL_FAILED: 502,
};

export function registerNodeRoutes(app: FastifyInstance, { node }: ApiModules): void {
  app.get('/v1/node', async () => node.info());

  app.get('/v1/peers', async () => {
    const peers = node.peers();
    const members = node.members();
    const byId = new Map(members.map((m) => [m.peerId, m]));
    return {
      count: peers.length,
      peers: peers.map((p) => {
        const m = byId.get(p.peerId);
        return m ? { ...p, state: m.state, phi: m.phi, lastSeen: m.lastSeen, incarnation: m.incarnation } : p;
      }),
      membership: { states: node.membership.view.counts(), members },
    };
  });

  app.post<{ Body: { multiaddr: string; timeoutMs?: number } }>(
    '/v1/peers',
    { schema: { body: connectBody } },
    async (request, reply) => {
      try {
        const peer = await node.connect(request.body.multiaddr, AbortSignal.timeout(request.body.timeoutMs ?? 10_000));
        return reply.status(200).send(peer);
      } catch (err) {
        if (err instanceof NodeError)
          return reply.status(STATUS[err.code] ?? 400).send(errorBody(err.code, err.message));
        throw err;
      }
    },
  );

  app.delete<{ Params: { peerId: string } }>(
    '/v1/peers/:peerId',
    { schema: { params: peerParams } },
    async (request, reply) => {
      try {
        const closed = await node.disconnect(request.params.peerId);
        if (!closed)
          return reply.status(404).send(errorBody('NOT_CONNECTED', `not connected to ${request.params.peerId}`));
        return reply.status(204).send();
      } catch (err) {
        if (err instanceof NodeError)
          return reply.status(STATUS[err.code] ?? 400).send(errorBody(err.code, err.message));
        throw err;
      }
    },
  );
}
