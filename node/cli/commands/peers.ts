import type { Command } from 'commander';
import type { PeerView } from '../../node.ts';
import { callApi } from '../api-client.ts';
import type { CliIo } from '../io.ts';
import { type ApiCommandOptions, addApiOptions, apiFor } from './status.ts';

export function registerPeers(program: Command, io: CliIo): void {
  const peers = program.command('peers').description("List, connect or disconnect a running node's peers.");

  addApiOptions(peers.command('list', { isDefault: true }).description('List connected peers (the default).')).action(
    async (opts: ApiCommandOptions) => {
      const res = await callApi<{ count: number; peers: PeerView[] }>(apiFor(opts, io), '/v1/peers');
      if (opts.json) return io.print(JSON.stringify(res.body, null, 2));
      if (res.body.count === 0) return io.print('no peers connected');
      io.print(`${res.body.count} peer(s)`);
      for (const p of res.body.peers) io.print(`${p.peerId}  ${p.direction.padEnd(8)}  ${p.addresses.join(', ')}`);
    },
  );

  addApiOptions(
    peers.command('connect <multiaddr>').description('Dial a peer, e.g. /ip4/192.0.2.7/tcp/9000/p2p/12D3KooW...'),
  ).action(async (multiaddr: string, opts: ApiCommandOptions) => {
    const res = await callApi<PeerView>(apiFor(opts, io), '/v1/peers', { method: 'POST', body: { multiaddr } });
    if (opts.json) return io.print(JSON.stringify(res.body, null, 2));
    io.print(`connected to ${res.body.peerId}`);
  });

  addApiOptions(peers.command('disconnect <peerId>').description('Close every connection to a peer.')).action(
    async (peerId: string, opts: ApiCommandOptions) => {
      await callApi(apiFor(opts, io), `/v1/peers/${encodeURIComponent(peerId)}`, { method: 'DELETE' });
      if (!opts.json) io.print(`disconnected from ${peerId}`);
    },
  );
}
