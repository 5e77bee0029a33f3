import { describe, expect, it } from 'vitest';
import { NodeMetrics } from '../metrics/node-metrics.ts';

describe('bizra_pbft_messages_total', () => {
  it('counts what countPbftMessage tallied, by type and result, across reads', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    const values = async () =>
      Object.fromEntries(
        (await m.pbftMessages.get()).values.map((v) => [`${v.labels['type']}/${v.labels['result']}`, v.value]),
      );
    expect(await values()).toEqual({});
    for (let i = 0; i < 3; i++) m.countPbftMessage('request', 'accepted');
    m.countPbftMessage('request', 'bad-signature');
    m.countPbftMessage('commit', 'accepted');
    expect(await values()).toEqual({ 'request/accepted': 3, 'request/bad-signature': 1, 'commit/accepted': 1 });
    // A second read adds nothing; later counts add to what was read.
    expect(await values()).toEqual({ 'request/accepted': 3, 'request/bad-signature': 1, 'commit/accepted': 1 });
    m.countPbftMessage('request', 'accepted');
    const text = await m.registry.metrics();
    expect(text).toMatch(/^bizra_pbft_messages_total\{type="request",result="accepted"\} 4$/m);
    expect(text).toMatch(/^bizra_pbft_messages_total\{type="commit",result="accepted"\} 1$/m);
  });
});
