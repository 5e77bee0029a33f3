/**
 * The validator-set (genesis) file: which nodes run PBFT together. JSON, so any
 * language can write it and `jq` can read it:
 *
 *   {
 *     "format": "bizra-validator-set/1",
 *     "chainId": "bizra-local-1",
 *     "params": { "checkpointInterval": 128, "logWindow": 256, "batchSize": 256 },
 *     "validators": [
 *       { "publicKey": "<64 hex>", "peerId": "12D3KooW...", "addresses": ["/ip4/10.0.0.1/tcp/9000"] },
 *       ...
 *     ]
 *   }
 *
 * Replica i is validators[i] (the order is part of the set: the primary of view v is
 * v mod n). `publicKey` is the node's Ed25519 key (`bizra id` prints it); `peerId` must
 * be the libp2p peer id of that key (it is checked, so a typo cannot pair one node's
 * votes with another's address). `addresses` are multiaddrs to dial the validator at,
 * without /p2p/ (may be empty: the peer store's addresses are used). `params` are the
 * replica options every validator must share (a backup refuses a batch larger than its
 * own batchSize, and checkpoints must fall on the same sequence numbers); absent ones
 * take the defaults.
 */
import { readFileSync } from 'node:fs';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { defaultPbftOptions, type PbftOptions, resolvePbftOptions } from '../../consensus/pbft/options.ts';
import { maxFaulty } from '../../consensus/pbft/quorum.ts';
import { ConfigError } from '../config/errors.ts';

export const VALIDATOR_SET_FORMAT = 'bizra-validator-set/1';

/** The replica options a validator set fixes for every validator. */
export const SHARED_PARAMS = ['checkpointInterval', 'logWindow', 'batchSize'] as const;
export type SharedParams = Pick<PbftOptions, (typeof SHARED_PARAMS)[number]>;

export interface ValidatorEntry {
  readonly publicKey: Uint8Array;
  readonly peerId: string;
  readonly addresses: readonly string[];
}

export interface ValidatorSetFile {
  readonly chainId: string;
  readonly params: SharedParams;
  readonly validators: readonly ValidatorEntry[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The libp2p peer id (base58) of a raw Ed25519 public key. */
export function peerIdOfKey(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

/** Reads and checks a validator-set file; every problem is a ConfigError naming the file and the field. */
export function loadValidatorSet(path: string): ValidatorSetFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read validator set ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`validator set ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseValidatorSet(json, path);
}

/** What a chain id may be. */
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const CHAIN_ID_RULE = '1 to 64 characters of A-Z a-z 0-9 . _ -';

export function parseValidatorSet(json: unknown, origin: string): ValidatorSetFile {
  const fail = (what: string): never => {
    throw new ConfigError(`validator set ${origin}: ${what}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be a JSON object');
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['format', 'chainId', 'params', 'validators'].includes(k))
      fail(`unknown field "${k}" (fields: format, chainId, params, validators)`);
  }
  if (o['format'] !== VALIDATOR_SET_FORMAT) fail(`"format" must be "${VALIDATOR_SET_FORMAT}"`);
  const chainId = o['chainId'];
  if (typeof chainId !== 'string' || !CHAIN_ID_PATTERN.test(chainId)) {
    fail(`"chainId" must be ${CHAIN_ID_RULE}`);
  }
  const paramsRaw = o['params'] ?? {};
  if (typeof paramsRaw !== 'object' || paramsRaw === null || Array.isArray(paramsRaw))
    fail('"params" must be an object');
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries(paramsRaw as Record<string, unknown>)) {
    if (!(SHARED_PARAMS as readonly string[]).includes(k))
      fail(`unknown param "${k}" (params: ${SHARED_PARAMS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(`param "${k}" must be an integer >= 1`);
    params[k] = v as number;
  }
  const shared = {
    checkpointInterval: params['checkpointInterval'] ?? defaultPbftOptions.checkpointInterval,
    logWindow: params['logWindow'] ?? defaultPbftOptions.logWindow,
    batchSize: params['batchSize'] ?? defaultPbftOptions.batchSize,
  };
  try {
    resolvePbftOptions(shared);
  } catch (err) {
    fail((err as Error).message.replace(/^pbft option/, 'param'));
  }
  const list = o['validators'];
  if (!Array.isArray(list) || list.length === 0) fail('"validators" must be a non-empty array');
  const seenKeys = new Set<string>();
  const validators = (list as unknown[]).map((v, i): ValidatorEntry => {
    const at = `validators[${i}]`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${at} must be an object`);
    const e = v as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!['publicKey', 'peerId', 'addresses'].includes(k))
        fail(`${at}: unknown field "${k}" (fields: publicKey, peerId, addresses)`);
    }
    const pk = e['publicKey'];
    if (typeof pk !== 'string' || !/^[0-9a-f]{64}$/.test(pk))
      fail(`${at}.publicKey must be 64 lowercase hex characters (a raw Ed25519 public key; \`bizra id\` prints it)`);
    if (seenKeys.has(pk as string)) fail(`${at}.publicKey appears twice in the set`);
    seenKeys.add(pk as string);
    const publicKey = new Uint8Array(Buffer.from(pk as string, 'hex'));
    let derived: string;
    try {
      derived = peerIdOfKey(publicKey);
    } catch (err) {
      return fail(`${at}.publicKey is not a valid Ed25519 public key: ${(err as Error).message}`);
    }
    const peerId = e['peerId'] ?? derived;
    if (peerId !== derived) fail(`${at}.peerId ${String(peerId)} is not the peer id of its publicKey (${derived})`);
    const addresses = e['addresses'] ?? [];
    if (!Array.isArray(addresses)) fail(`${at}.addresses must be an array of multiaddrs`);
    (addresses as unknown[]).forEach((a, j) => {
      if (typeof a !== 'string') fail(`${at}.addresses[${j}] must be a string`);
      try {
        const ma = multiaddr(a as string);
        if (ma.getComponents().some((c) => c.name === 'p2p'))
          fail(`${at}.addresses[${j}] must not carry /p2p/ (the peer id is the peerId field)`);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        fail(`${at}.addresses[${j}] is not a multiaddr: ${(err as Error).message}`);
      }
    });
    return { publicKey, peerId: derived, addresses: addresses as string[] };
  });
  return { chainId: chainId as string, params: shared, validators };
}

/** The file's JSON text (2-space indent, trailing newline). */
export function renderValidatorSet(set: ValidatorSetFile): string {
  return `${JSON.stringify(
    {
      format: VALIDATOR_SET_FORMAT,
      chainId: set.chainId,
      params: set.params,
      validators: set.validators.map((v) => ({
        publicKey: hex(v.publicKey),
        peerId: v.peerId,
        addresses: v.addresses,
      })),
    },
    null,
    2,
  )}\n`;
}

/** What identifies a validator set for the WAL: the chain id, the shared params and the keys in order. */
export function validatorSetIdentity(set: ValidatorSetFile): string {
  return JSON.stringify({
    chainId: set.chainId,
    params: set.params,
    validators: set.validators.map((v) => hex(v.publicKey)),
  });
}

/** The index of `publicKey` in the set, or -1. */
export function indexOfKey(set: ValidatorSetFile, publicKey: Uint8Array): number {
  const h = hex(publicKey);
  return set.validators.findIndex((v) => hex(v.publicKey) === h);
}

export function faultTolerance(set: ValidatorSetFile): { n: number; f: number } {
  return { n: set.validators.length, f: maxFaulty(set.validators.length) };
}
