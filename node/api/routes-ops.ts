/** Operator routes: /health and /metrics (unversioned, as scrapers and probes expect). */
import type { FastifyInstance } from 'fastify';
import type { ApiModules } from './server.ts';

export function registerOpsRoutes(app: FastifyInstance, { node, metrics }: ApiModules): void {
  app.get('/health', async (_request, reply) => {
    const report = await node.health();
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
