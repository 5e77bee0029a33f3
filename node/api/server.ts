/**
 * The HTTP API (fastify): /health, /metrics and the versioned /v1 routes.
 * Requests are validated against JSON schemas; every error is a JSON body.
 */
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';
import type { BizraNode } from '../node.ts';
import { installErrorHandlers } from './errors.ts';
import { registerConsensusRoutes } from './routes-consensus.ts';
import { registerNodeRoutes } from './routes-node.ts';
import { registerOpsRoutes } from './routes-ops.ts';
import { registerPciRoutes } from './routes-pci.ts';

export interface ApiOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
}

export interface ApiModules {
  node: BizraNode;
  metrics: NodeMetrics;
  logger: Logger;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  listen(): Promise<void>;
  close(): Promise<void>;
  address(): { host: string; port: number } | undefined;
}

export function createApiServer(opts: ApiOptions, modules: ApiModules): ApiServer {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  installValidators(app);
  installErrorHandlers(app, modules.logger);
  installRequestMetrics(app, modules.metrics);
  registerOpsRoutes(app, modules);
  registerNodeRoutes(app, modules);
  registerPciRoutes(app, modules);
  registerConsensusRoutes(app, modules);

  let bound: { host: string; port: number } | undefined;
  return {
    app,
    async listen() {
      await app.listen({ host: opts.host, port: opts.port });
      const addr = app.server.address();
      if (addr && typeof addr === 'object') bound = { host: addr.address, port: addr.port };
    },
    async close() {
      await app.close();
    },
    address: () => bound,
  };
}

/**
 * Bodies are validated strictly (42 is not the string "42"; unknown fields are
 * refused, not dropped). Query strings and path parameters arrive as text, so
 * their validator coerces ("10" becomes 10 for an integer parameter).
 */
function installValidators(app: FastifyInstance): void {
  const common = { removeAdditional: false, useDefaults: true, allErrors: false } as const;
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}

function installRequestMetrics(app: FastifyInstance, metrics: NodeMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the raw URL, so label values stay bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
