import type { Command } from 'commander';
import { layoutOf } from '../../paths.ts';
import { type CommonOptions, resolveDataDir } from '../context.ts';
import type { CliIo } from '../io.ts';

export function registerId(program: Command, io: CliIo): void {
  program
    .command('id')
    .description("Print this node's peer id and Ed25519 public key (read from the key file; no daemon needed).")
    .option('--data-dir <dir>', 'data directory (env BIZRA_DATA_DIR)')
    .option('--json', 'print as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { loadIdentity } = await import('../../identity.ts');
      const layout = layoutOf(resolveDataDir(opts, io.env));
      const identity = await loadIdentity(layout.keyFile);
      const out = {
        peerId: identity.peerId.toString(),
        publicKey: Buffer.from(identity.publicKey).toString('hex'),
        keyFile: layout.keyFile,
      };
      if (opts.json) return io.print(JSON.stringify(out, null, 2));
      io.print(`peer id:    ${out.peerId}`, `public key: ${out.publicKey} (Ed25519, hex)`);
    });
}
