/**
 * What `npm run testnet` prints once the nodes are up: one row per node, as a
 * terminal table or as JSON.
 */
import Table from 'cli-table3';
import type { BizraNode } from '../node/node.ts';
import type { ScenarioReport } from './scenario.ts';

export interface NodeRow {
  index: number;
  peerId: string;
  connections: number;
  mesh: number;
  apiPort: number | null;
  listen: string[];
}

export interface TestnetReport {
  /** Where the data dirs live, and whether that dir is removed at exit. */
  root: string;
  rootIsTemporary: boolean;
  nodes: NodeRow[];
  summary: {
    peers: number;
    connections: Stats;
    mesh: Stats;
    /** Nodes with an empty gossip mesh (0 when every node has at least one mesh peer). */
    withoutMesh: number;
  };
}

export interface Stats {
  min: number;
  mean: number;
  max: number;
}

export function nodeRow(node: BizraNode, index: number): NodeRow {
  const running = node.running;
  return {
    index,
    peerId: node.peerId.toString(),
    connections: running ? node.peers().length : 0,
    mesh: running ? node.meshPeers() : 0,
    apiPort: node.apiAddress?.port ?? null,
    listen: running ? node.host.getMultiaddrs().map(String) : [],
  };
}

export function snapshot(nodes: readonly BizraNode[], root: string, rootIsTemporary: boolean): TestnetReport {
  return reportOf(
    nodes.map((node, index) => nodeRow(node, index)),
    root,
    rootIsTemporary,
  );
}

/** The report of rows gathered from wherever the nodes run. */
export function reportOf(rows: NodeRow[], root: string, rootIsTemporary: boolean): TestnetReport {
  return {
    root,
    rootIsTemporary,
    nodes: rows,
    summary: {
      peers: rows.length,
      connections: stats(rows.map((r) => r.connections)),
      mesh: stats(rows.map((r) => r.mesh)),
      withoutMesh: rows.filter((r) => r.mesh === 0).length,
    },
  };
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { min: 0, mean: 0, max: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  return {
    min: Math.min(...values),
    mean: Math.round((sum / values.length) * 100) / 100,
    max: Math.max(...values),
  };
}

/** The table plus a summary line, for a terminal or a log. Colours only when `color` is set. */
export function renderTable(report: TestnetReport, color: boolean): string {
  const style = color ? {} : { head: [], border: [] };
  const table = new Table({
    head: ['#', 'peer id (last 8)', 'connections', 'mesh', 'API port'],
    colAligns: ['right', 'left', 'right', 'right', 'right'],
    style,
    // No rule between rows: a table of hundreds of nodes stays readable.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of report.nodes) {
    table.push([r.index, r.peerId.slice(-8), r.connections, r.mesh, r.apiPort ?? '-']);
  }
  const s = report.summary;
  const lines = [
    table.toString(),
    `${s.peers} node(s); connections min/mean/max ${fmt(s.connections)}; mesh min/mean/max ${fmt(s.mesh)}` +
      (s.withoutMesh > 0 ? `; ${s.withoutMesh} node(s) without a mesh peer yet` : ''),
    `data: ${report.root}${report.rootIsTemporary ? ' (removed at exit)' : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

function fmt(s: Stats): string {
  return `${s.min}/${s.mean}/${s.max}`;
}

/** The membership scenario's summary as a terminal table. */
export function renderScenario(r: ScenarioReport, color: boolean): string {
  const ms = (v: number | null | undefined) =>
    v === null || v === undefined ? 'not reached' : `${(v / 1000).toFixed(2)} s`;
  const lines = [
    `all ${r.peers} nodes ACTIVE everywhere after ${ms(r.allActiveMs)}; false suspicions: ${r.falseSuspicions}`,
  ];
  if (r.kills.length > 0) {
    const table = new Table({
      head: [
        'node',
        'peer',
        'all SUSPECT after kill',
        'max last heartbeat -> SUSPECT',
        'all DEAD after kill',
        'rejoin',
      ],
      ...(color ? {} : { style: { head: [], border: [] } }),
    });
    for (const k of r.kills) {
      table.push([
        k.index,
        k.peerId.slice(-8),
        ms(k.allSuspectMs),
        ms(k.maxDetectionMs),
        ms(k.allDeadMs),
        k.rejoinMs === undefined ? '-' : ms(k.rejoinMs),
      ]);
    }
    lines.push(table.toString());
  }
  return `${lines.join('\n')}\n`;
}
