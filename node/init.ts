/**
 * `bizra init`: creates the data dir (mode 0700), the node key (mode 0600) and
 * a commented default config file. Idempotent: what exists is kept, so running
 * it twice never changes a node's identity.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { renderDefaultConfigFile } from './config/file.ts';
import { generateIdentity, IdentityError, loadIdentity, type NodeIdentity, writeIdentity } from './identity.ts';
import { type DataDirLayout, layoutOf } from './paths.ts';

export interface InitResult {
  layout: DataDirLayout;
  identity: NodeIdentity;
  wroteKey: boolean;
  wroteConfig: boolean;
}

export async function initDataDir(root: string): Promise<InitResult> {
  const layout = layoutOf(root);
  mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  let wroteKey = false;
  if (!existsSync(layout.keyFile)) {
    if (existsSync(layout.dbDir)) {
      // A database without its key belongs to an identity that is gone; making
      // a new key would silently turn this node into a different one.
      throw new IdentityError(
        `${layout.dbDir} exists but ${layout.keyFile} is missing; restore the key from a backup, or move the db aside to start as a new node`,
      );
    }
    writeIdentity(layout.keyFile, await generateIdentity());
    wroteKey = true;
  }
  let wroteConfig = false;
  if (!existsSync(layout.configFile)) {
    writeFileSync(layout.configFile, renderDefaultConfigFile(), { mode: 0o644, flag: 'wx' });
    wroteConfig = true;
  }
  const identity = await loadIdentity(layout.keyFile);
  return { layout, identity, wroteKey, wroteConfig };
}
