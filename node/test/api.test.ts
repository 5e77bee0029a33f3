import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '../api/errors.ts';
import type { HealthReport } from '../health.ts';
import type { BizraNode, NodeInfo } from '../node.ts';
import { startTestNode, tempDir } from './helpers.ts';

describe('HTTP API of one node', () => {
  let node: BizraNode;
  let base: string;
  const dir = tempDir();

  beforeAll(async () => {
    node = await startTestNode(dir.path);
    base = `http://127.0.0.1:${node.apiAddress?.port}`;
  });
  afterAll(async () => {
    await node.stop();
    dir.cleanup();
  });

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

  it('GET /health is 200 with every check passing', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthReport;
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(['eventLoop', 'p2p', 'peers', 'store']);
    expect(body.failing).toEqual([]);
  });

  it('GET /health is 503 naming the failing check when the store fails', async () => {
    // A second node whose store stops answering (as a failed disk would).
    const d = tempDir();
    const other = await startTestNode(d.path);
    try {
      other.store.ping = async () => {
        throw new Error('IO error: disk gone');
      };
      const res = await fetch(`http://127.0.0.1:${other.apiAddress?.port}/health`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as HealthReport;
      expect(body.status).toBe('failing');
      expect(body.failing).toEqual(['store']);
      expect(body.checks.store?.detail).toBe('IO error: disk gone');
    } finally {
      await other.stop();
      d.cleanup();
    }
  });

  it('GET /metrics is Prometheus text with build info, process and libp2p metrics', async () => {
    await fetch(`${base}/health`);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text());
    const names = new Set(families.map((f) => f.name));
    const build = families.find((f) => f.name === 'bizra_build_info');
    expect(build?.metrics[0]?.labels?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect([...names].some((n) => n.startsWith('libp2p_'))).toBe(true);
    const health = families.find((f) => f.name === 'bizra_health_check_ok');
    expect(health?.metrics.map((m) => m.labels?.check).sort()).toEqual(['eventLoop', 'p2p', 'peers', 'store']);
    const requests = families.find((f) => f.name === 'bizra_http_requests_total');
    expect(requests?.metrics.some((m) => m.labels?.route === '/health' && Number(m.value) >= 1)).toBe(true);
  });

  it('GET /v1/node describes the node', async () => {
    const res = await fetch(`${base}/v1/node`);
    const body = (await res.json()) as NodeInfo;
    expect(body.peerId).toBe(node.peerId.toString());
    expect(body.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(body.listenAddresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    expect(body.boots).toBe(1);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.gpus).toEqual([]);
  });

  it('GET /v1/peers lists no peers for a lone node', async () => {
    expect(await (await fetch(`${base}/v1/peers`)).json()).toEqual({
      count: 0,
      peers: [],
      membership: { states: { JOINING: 0, ACTIVE: 0, SUSPECT: 0, DEAD: 0 }, members: [] },
    });
  });

  describe('bad requests get a 4xx with a JSON error and change nothing', () => {
    const cases: Array<[string, () => Promise<Response>, number, string, RegExp]> = [
      ['malformed JSON', () => post('/v1/peers', '{"multiaddr":'), 400, 'BAD_JSON', /JSON/i],
      ['missing field', () => post('/v1/peers', '{}'), 400, 'BAD_REQUEST', /must have required property 'multiaddr'/],
      [
        'unknown field',
        () => post('/v1/peers', '{"multiaddr":"/ip4/1.2.3.4","x":1}'),
        400,
        'BAD_REQUEST',
        /additional properties/,
      ],
      ['wrong type', () => post('/v1/peers', '{"multiaddr":42}'), 400, 'BAD_REQUEST', /must be string/],
      [
        'not a multiaddr',
        () => post('/v1/peers', '{"multiaddr":"/nonsense/proto"}'),
        400,
        'BAD_MULTIADDR',
        /not a multiaddr/,
      ],
      [
        'no peer id',
        () => post('/v1/peers', '{"multiaddr":"/ip4/127.0.0.1/tcp/1"}'),
        400,
        'BAD_MULTIADDR',
        /\/p2p\/<peer id>/,
      ],
      [
        'unsupported media type',
        () => post('/v1/peers', 'multiaddr=x', 'text/csv'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /content-type/i,
      ],
      [
        'body too large',
        () => post('/v1/peers', JSON.stringify({ multiaddr: `/${'a'.repeat(2 * 1024 * 1024)}` })),
        413,
        'BODY_TOO_LARGE',
        /too large/i,
      ],
      [
        'bad peer id',
        () => fetch(`${base}/v1/peers/not-a-peer`, { method: 'DELETE' }),
        400,
        'BAD_PEER_ID',
        /not a peer id/,
      ],
      ['unknown route', () => fetch(`${base}/v1/nothing`), 404, 'NOT_FOUND', /no route GET \/v1\/nothing/],
    ];
    for (const [name, send, status, code, message] of cases) {
      it(name, async () => {
        const res = await send();
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        const body = (await res.json()) as ApiErrorBody;
        expect(body.error.code).toBe(code);
        expect(body.error.message).toMatch(message);
        expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
        expect(node.peers()).toEqual([]);
      });
    }

    it('dialling itself is refused', async () => {
      const self = node.host.getMultiaddrs()[0]?.toString() as string;
      const res = await post('/v1/peers', JSON.stringify({ multiaddr: self }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ApiErrorBody).error.code).toBe('SELF_DIAL');
    });

    it('an unreachable peer is a 502, not a crash', async () => {
      const other = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDy4PGfW54KfvW7RbCsm3LhTf4vRq95J4dX7EpixZLJQm';
      const res = await post('/v1/peers', JSON.stringify({ multiaddr: other, timeoutMs: 2000 }));
      expect(res.status).toBe(502);
      expect(((await res.json()) as ApiErrorBody).error.code).toBe('DIAL_FAILED');
      expect((await fetch(`${base}/health`)).status).toBe(200);
    });
  });
});
