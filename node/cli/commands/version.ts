import type { Command } from 'commander';
import { VERSION } from '../../version.ts';
import type { CliIo } from '../io.ts';

export function registerVersion(program: Command, io: CliIo): void {
  program
    .command('version')
    .description('Print the bizra version and the Node.js it runs on.')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const out = { version: VERSION, node: process.versions.node, platform: `${process.platform}-${process.arch}` };
      if (opts.json) return io.print(JSON.stringify(out, null, 2));
      io.print(`bizra ${out.version} (node ${out.node}, ${out.platform})`);
    });
}
