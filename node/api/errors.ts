/**
 * Every error the API sends has one shape: `{ "error": { "code", "message" } }`.
 * Client mistakes keep fastify's specific message; server faults are logged and
 * answered with a generic one, so no stack trace or internal detail leaks.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';

export interface ApiErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** Fastify's own error codes mapped to ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
};

export function installErrorHandlers(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      return reply
        .status(400)
        .send(
          errorBody('BAD_REQUEST', `${where}: ${err.message.replace(/^(body|querystring|params|headers)\/?/, '')}`),
        );
    }
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'] ?? '(none)';
      return reply
        .status(415)
        .send(errorBody('UNSUPPORTED_MEDIA_TYPE', `content-type ${type} is not accepted here; send application/json`));
    }
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[err.code] ?? (err instanceof SyntaxError ? 'BAD_JSON' : 'BAD_REQUEST');
      return reply.status(status).send(errorBody(code, err.message));
    }
    log.error({ err, url: request.url, method: request.method }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error; see the node log'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
