/** A small client for a running node's HTTP API, used by `status` and `peers`. */
import type { NodeConfig } from '../config/schema.ts';

export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export class ApiResponseError extends Error {
  override readonly name = 'ApiResponseError';
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, message: string) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The URL of the API from --api-url or the resolved settings; a wildcard bind address is reached on loopback. */
export function apiBaseUrl(apiUrl: string | undefined, config: NodeConfig): string {
  if (apiUrl) return apiUrl.replace(/\/+$/, '');
  const host = ['0.0.0.0', '::', ''].includes(config.api.host) ? '127.0.0.1' : config.api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.api.port}`;
}

export interface ApiCallOptions {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with this content type. */
  raw?: { body: Uint8Array; contentType: string };
  timeoutMs?: number;
  /** Statuses to return rather than throw for (e.g. 503 from /health). */
  accept?: number[];
}

export async function callApi<T>(
  base: string,
  path: string,
  opts: ApiCallOptions = {},
): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: opts.method ?? 'GET',
      ...(opts.body !== undefined
        ? { body: JSON.stringify(opts.body), headers: { 'content-type': 'application/json' } }
        : {}),
      ...(opts.raw ? { body: opts.raw.body, headers: { 'content-type': opts.raw.contentType } } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ApiUnreachableError(`no bizra daemon answers at ${base} (${cause}); is \`bizra start\` running?`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  if (!res.ok && !(opts.accept ?? []).includes(res.status)) {
    const message = (body as { error?: { message?: string } })?.error?.message ?? text;
    throw new ApiResponseError(
      res.status,
      body,
      `${opts.method ?? 'GET'} ${path} failed with ${res.status}: ${message}`,
    );
  }
  return { status: res.status, body: body as T };
}
