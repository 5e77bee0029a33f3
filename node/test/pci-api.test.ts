import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeToJson } from '../../protocol/pci/index.ts';
import type { BizraNode } from '../node.ts';
import { startTestNode, tempDir } from './helpers.ts';
import { makeEnvelope, withBadSignature } from './pci-helpers.ts';

const PROTOBUF = 'application/x-protobuf';

interface Answer {
  accepted?: boolean;
  id?: string;
  error?: { code: string; name?: string; message: string };
}

describe('PCI over HTTP', () => {
  let node: BizraNode;
  let base: string;
  const dir = tempDir();

  beforeAll(async () => {
    node = await startTestNode(dir.path, (c) => {
      c.pci.maxEnvelopeBytes = 4096;
    });
    base = `http://127.0.0.1:${node.apiAddress?.port}`;
  });
  afterAll(async () => {
    await node.stop();
    dir.cleanup();
  });

  const postBytes = (bytes: Uint8Array) =>
    fetch(`${base}/v1/pci`, { method: 'POST', body: bytes, headers: { 'content-type': PROTOBUF } });
  const postJson = (body: unknown) =>
    fetch(`${base}/v1/pci`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const json = async (res: Response) => (await res.json()) as Answer;

  it('accepts a signed envelope as protobuf, stores it, and calls a resubmission a replay', async () => {
    const env = makeEnvelope();
    const res = await postBytes(env.bytes);
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ accepted: true, id: env.idHex });
    expect(await node.pciStore.has(env.idHex)).toBe(true);
    const again = await postBytes(env.bytes);
    expect(again.status).toBe(422);
    expect((await json(again)).error).toMatchObject({ code: 'R006', name: 'REPLAYED' });
  });

  it('accepts the JSON form of a signed envelope', async () => {
    const env = makeEnvelope();
    const res = await postJson(envelopeToJson(env.envelope));
    expect(res.status).toBe(201);
    expect((await json(res)).id).toBe(env.idHex);
  });

  const now = Date.now();
  const rejects: Array<[string, () => Uint8Array, string]> = [
    ['R001 TTL_EXPIRED', () => makeEnvelope({ timestampMs: now - 600_000, ttlSeconds: 60 }).bytes, 'TTL_EXPIRED'],
    ['R002 INVALID_SIGNATURE', () => withBadSignature(makeEnvelope().bytes), 'INVALID_SIGNATURE'],
    ['R003 IHSAN_BELOW_THRESHOLD', () => makeEnvelope({ ihsanScore: 0.5 }).bytes, 'IHSAN_BELOW_THRESHOLD'],
    ['R004 SNR_BELOW_THRESHOLD', () => makeEnvelope({ snrScore: 0.1 }).bytes, 'SNR_BELOW_THRESHOLD'],
    ['R005 MALFORMED_ENVELOPE', () => new Uint8Array([0x0a, 0xff, 0x01]), 'MALFORMED_ENVELOPE'],
    ['R007 FROM_FUTURE', () => makeEnvelope({ timestampMs: now + 3_600_000 }).bytes, 'FROM_FUTURE'],
  ];
  for (const [name, build, rejectName] of rejects) {
    it(`rejects ${name} with a 422 and stores nothing`, async () => {
      const before = node.pciStore.count;
      const res = await postBytes(build());
      expect(res.status).toBe(422);
      const body = await json(res);
      expect(body.accepted).toBe(false);
      expect(body.error?.code).toBe(name.slice(0, 4));
      expect(body.error?.name).toBe(rejectName);
      expect(node.pciStore.count).toBe(before);
    });
  }

  it('rejects malformed JSON envelopes as R005, naming the field', async () => {
    const env = makeEnvelope();
    const bad = { ...envelopeToJson(env.envelope), nonce: 'not base64!' };
    const res = await postJson(bad);
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error?.code).toBe('R005');
    expect(body.error?.message).toMatch(/^nonce: /);
  });

  it('refuses an envelope over the size limit before reading it (413)', async () => {
    const res = await postBytes(new Uint8Array(5000));
    expect(res.status).toBe(413);
    const body = await json(res);
    expect(body.error?.code).toBe('BODY_TOO_LARGE');
    expect(body.error?.message).toBe('envelope is 5000 bytes; this node accepts at most 4096');
    // Far over the route's own limit, fastify refuses from Content-Length before reading.
    expect((await postBytes(new Uint8Array(64 * 1024))).status).toBe(413);
  });

  it('lists in arrival order with a cursor, and serves one by id as JSON or protobuf', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const env = makeEnvelope();
      ids.push(env.idHex);
      expect((await postBytes(env.bytes)).status).toBe(201);
    }
    const all = (await (await fetch(`${base}/v1/pci?limit=1000`)).json()) as { items: Array<{ id: string }> };
    expect(all.items.slice(-3).map((i) => i.id)).toEqual(ids);
    const page = (await (await fetch(`${base}/v1/pci?limit=2&after=${ids[0]}`)).json()) as {
      items: Array<{ id: string; source: string; envelope: { agentType: string } }>;
      next?: string;
    };
    expect(page.items.map((i) => i.id)).toEqual([ids[1], ids[2]]);
    expect(page.items[0]).toMatchObject({ source: 'http', envelope: { agentType: 'MODEL' } });

    const one = await fetch(`${base}/v1/pci/${ids[1]}`);
    expect(((await one.json()) as { id: string }).id).toBe(ids[1]);
    const raw = await fetch(`${base}/v1/pci/${ids[1]}`, { headers: { accept: PROTOBUF } });
    expect(raw.headers.get('content-type')).toBe(PROTOBUF);
    const stored = await node.pciStore.get(ids[1] as string);
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(Buffer.from(stored?.bytes ?? []));
  });

  it('answers bad listing and lookup requests with 4xx', async () => {
    expect((await fetch(`${base}/v1/pci?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/v1/pci?after=xyz`)).status).toBe(400);
    const unknownCursor = await fetch(`${base}/v1/pci?after=${'0'.repeat(64)}`);
    expect(unknownCursor.status).toBe(400);
    expect((await json(unknownCursor)).error?.code).toBe('BAD_CURSOR');
    expect((await fetch(`${base}/v1/pci/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${base}/v1/pci/nothex`)).status).toBe(400);
  });
});

describe('PCI rate limit over HTTP', () => {
  it('answers 429 with Retry-After past the limit, and the node keeps serving', async () => {
    const dir = tempDir();
    const node = await startTestNode(dir.path, (c) => {
      c.pci.rateLimitPerSecond = 1;
      c.pci.rateLimitBurst = 3;
    });
    try {
      const base = `http://127.0.0.1:${node.apiAddress?.port}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/v1/pci`, {
          method: 'POST',
          body: makeEnvelope().bytes,
          headers: { 'content-type': PROTOBUF },
        });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(((await res.json()) as Answer).error?.code).toBe('RATE_LIMITED');
        }
      }
      expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
      expect(statuses.slice(3)).toEqual([429, 429, 429]);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^bizra_pci_rate_limited_total\{source="http"\} 3$/m);
      expect(metrics).toMatch(/^bizra_pci_accepted_total\{source="http"\} 3$/m);
    } finally {
      await node.stop();
      dir.cleanup();
    }
  });
});
