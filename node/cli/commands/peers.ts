import type { Command } from 'commander';
import type { MemberView, PeerView } from '../../node.ts';

interface PeersAnswer {
  count: number;
  peers: PeerView[];
  membership: { states: Record<string, number>; members: MemberView[] };
}

import { callApi } from '../api-client.ts';
import type { CliIo } from '../io.ts';
import { type ApiCommandOptions, addApiOptions, apiFor } from './status.ts';

export function registerPeers(program: Command, io: CliIo): void {
  const peers = program.command('peers').description("List, connect or disconnect a running node's peers.");

  addApiOptions(peers.command('list', { isDefault: true }).description('List connected peers (the default).')).action(
    async (opts: ApiCommandOptions) => {
      const res = await callApi<PeersAnswer>(apiFor(opts, io), '/v1/peers');
      if (opts.json) return io.print(JSON.stringify(res.body, null, 2));
      const { states, members } = res.body.membership;
      io.print(
        `${res.body.count} peer(s) connected; membership: ${Object.entries(states)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ')}`,
      );
      for (const m of members) {
        io.print(
          `${m.peerId}  ${m.state.padEnd(7)}  phi ${m.phi.toFixed(2).padStart(6)}  last seen ${m.lastSeen}  incarnation ${m.incarnation}${m.connected ? '' : '  (not connected)'}`,
        );
      }
      const known = new Set(members.map((m) => m.peerId));
      for (const p of res.body.peers.filter((p) => !known.has(p.peerId))) {
        io.print(`${p.peerId}  (no heartbeat yet)  ${p.direction}  ${p.addresses.join(', ')}`);
      }
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
