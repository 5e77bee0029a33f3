import type { Command } from 'commander';
import type { HealthReport } from '../../health.ts';
import type { NodeInfo } from '../../node.ts';
import { apiBaseUrl, callApi } from '../api-client.ts';
import { type CommonOptions, loadContext } from '../context.ts';
import type { CliIo } from '../io.ts';

export interface ApiCommandOptions extends CommonOptions {
  apiUrl?: string;
  apiHost?: string;
  apiPort?: string;
  json?: boolean;
}

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--api-url <url>', 'the node API to ask (default from the settings: http://<api.host>:<api.port>)')
    .option('--api-host <host>', 'API host, as for `bizra start` (env BIZRA_API_HOST)')
    .option('--api-port <port>', 'API port, as for `bizra start` (env BIZRA_API_PORT)')
    .option('--data-dir <dir>', 'data directory whose config names the API address (env BIZRA_DATA_DIR)')
    .option('--config <file>', 'config file (env BIZRA_CONFIG)')
    .option('--json', 'print as JSON');
}

export function apiFor(opts: ApiCommandOptions, io: CliIo): string {
  const flags: Record<string, unknown> = {};
  if (opts.apiHost !== undefined) flags['api.host'] = opts.apiHost;
  if (opts.apiPort !== undefined) flags['api.port'] = opts.apiPort;
  return apiBaseUrl(opts.apiUrl, loadContext(opts, flags, io.env).resolved.config);
}

export function registerStatus(program: Command, io: CliIo): void {
  addApiOptions(
    program
      .command('status')
      .description('Ask a running node for its health and identity. Exit code 0 healthy, 1 unhealthy, 3 unreachable.'),
  ).action(async (opts: ApiCommandOptions) => {
    const base = apiFor(opts, io);
    const health = await callApi<HealthReport>(base, '/health', { accept: [503] });
    const node = await callApi<NodeInfo>(base, '/v1/node');
    if (opts.json) {
      io.print(JSON.stringify({ health: health.body, node: node.body }, null, 2));
    } else {
      const n = node.body;
      io.print(
        `status:   ${health.body.status}`,
        `peer id:  ${n.peerId}`,
        `version:  ${n.version} (${n.profile} profile)`,
        `uptime:   ${n.uptimeSeconds.toFixed(0)} s (boot #${n.boots})`,
        `listen:   ${n.listenAddresses.join(', ') || '(none)'}`,
        `gpus:     ${n.gpus.map((g) => `${g.name} (${g.memoryMiB} MiB)`).join(', ') || 'none found'}`,
        ...Object.entries(health.body.checks).map(
          ([name, c]) => `check ${name.padEnd(10)} ${c.ok ? 'ok  ' : 'FAIL'} ${c.detail}`,
        ),
      );
    }
    if (health.body.status !== 'ok') process.exitCode = 1;
  });
}
