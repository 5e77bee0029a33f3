/**
 * `bizra init`: creates the data dir (mode 0700), the node key (mode 0600) and
 * a commented default config file. Idempotent: what exists is kept, so running
 * it twice never changes a node's identity.
 *
 * With a chain id it also writes a validator-set (genesis) file naming this node as the
 * only validator, and a config file whose consensus.validatorSet names it: a one-node
 * PBFT chain that `bizra start` runs. Every conflict with what exists (another set file
 * there, a config file that names another set) is found before anything is written.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { readConfigFile, renderDefaultConfigFile } from './config/file.ts';
import { ConfigError } from './errors.ts';
import { generateIdentity, IdentityError, loadIdentity, type NodeIdentity, writeIdentity } from './identity.ts';
import { type DataDirLayout, layoutOf } from './paths.ts';

export interface InitOptions {
  /**
   * Write a one-validator set for this node with this chain id and point the config at
   * it. `file` is where (relative paths are taken from the data dir, as in the config);
   * default `validator-set.json`.
   */
  validatorSet?: { chainId: string; file?: string };
}

export interface InitResult {
  layout: DataDirLayout;
  identity: NodeIdentity;
  wroteKey: boolean;
  wroteConfig: boolean;
  /** The validator-set file, when one was asked for, and whether this call wrote it. */
  validatorSet?: { path: string; configValue: string; wrote: boolean };
}

export const DEFAULT_VALIDATOR_SET_FILE = 'validator-set.json';

export async function initDataDir(root: string, opts: InitOptions = {}): Promise<InitResult> {
  const layout = layoutOf(root);
  const genesis = opts.validatorSet ? await planValidatorSet(layout, opts.validatorSet) : undefined;
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
  const identity = await loadIdentity(layout.keyFile);
  // The set before the config that names it: an interrupted init leaves no config
  // pointing at a file that is not there.
  let validatorSet: InitResult['validatorSet'];
  if (genesis) validatorSet = { ...genesis, wrote: await genesis.write(identity) };
  let wroteConfig = false;
  if (!existsSync(layout.configFile)) {
    const set = genesis ? { 'consensus.validatorSet': genesis.configValue } : {};
    writeFileSync(layout.configFile, renderDefaultConfigFile(set), { mode: 0o644, flag: 'wx' });
    wroteConfig = true;
  }
  return { layout, identity, wroteKey, wroteConfig, ...(validatorSet ? { validatorSet } : {}) };
}

interface ValidatorSetPlan {
  path: string;
  configValue: string;
  /** Writes the file unless the same one is there already; true if it wrote it. */
  write: (identity: NodeIdentity) => Promise<boolean>;
}

/** Checks everything a chain-id init could conflict with, before anything is written. */
async function planValidatorSet(
  layout: DataDirLayout,
  want: NonNullable<InitOptions['validatorSet']>,
): Promise<ValidatorSetPlan> {
  const vs = await import('./consensus/validator-set.ts');
  if (!vs.CHAIN_ID_PATTERN.test(want.chainId)) {
    throw new ConfigError(`--chain-id ${JSON.stringify(want.chainId)}: a chain id is ${vs.CHAIN_ID_RULE}`);
  }
  const configValue = want.file ?? DEFAULT_VALIDATOR_SET_FILE;
  if (configValue.trim() === '') throw new ConfigError('--validator-set must name a file');
  const path = isAbsolute(configValue) ? configValue : resolvePath(layout.root, configValue);
  if (existsSync(layout.configFile)) {
    const consensus = readConfigFile(layout.configFile)['consensus'] as Record<string, unknown> | undefined;
    const named = consensus?.['validatorSet'];
    if (typeof named !== 'string' || resolvePath(layout.root, named) !== path) {
      throw new ConfigError(
        `${layout.configFile} exists and its consensus.validatorSet is ${named === undefined ? 'not set' : JSON.stringify(named)}; ` +
          `init keeps an existing config file: set validatorSet = ${JSON.stringify(configValue)} under [consensus] there, or move the file aside`,
      );
    }
  }
  const parent = dirname(path);
  if (existsSync(parent) && !statSync(parent).isDirectory()) {
    throw new ConfigError(`--validator-set ${configValue}: ${parent} is not a directory`);
  }
  if (existsSync(path) && !existsSync(layout.keyFile)) {
    throw new ConfigError(`${path} exists but this data dir has no node key yet, so it cannot be this node's set`);
  }
  const render = (identity: NodeIdentity): string =>
    vs.renderValidatorSet(
      vs.parseValidatorSet(
        {
          format: vs.VALIDATOR_SET_FORMAT,
          chainId: want.chainId,
          params: {},
          validators: [{ publicKey: Buffer.from(identity.publicKey).toString('hex') }],
        },
        'being written',
      ),
    );
  if (existsSync(path)) {
    // Only the very set this init would write may be there already (a second run).
    const text = render(await loadIdentity(layout.keyFile));
    const there = vs.loadValidatorSet(path);
    if (vs.renderValidatorSet(there) !== text) {
      throw new ConfigError(
        `${path} exists and is not the one-validator set of this node for chain ${want.chainId} ` +
          `(it is chain ${there.chainId} with ${there.validators.length} validator(s)); move it aside or pass --validator-set with another file`,
      );
    }
  }
  return {
    path,
    configValue,
    async write(identity) {
      if (existsSync(path)) return false;
      mkdirSync(parent, { recursive: true, mode: 0o700 });
      writeFileSync(path, render(identity), { mode: 0o644, flag: 'wx' });
      return true;
    },
  };
}
