/**
 * The node's Ed25519 identity: one PKCS#8 PEM file in the data dir, mode 0600,
 * readable with `openssl pkey -in node_key.pem -text`. The libp2p peer id is
 * derived from it, so a node keeps its peer id across restarts.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { IdentityError } from './errors.ts';

export { IdentityError };

export interface NodeIdentity {
  /** The 32-byte Ed25519 seed (RFC 8032 private key). */
  seed: Uint8Array;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The same key in libp2p's form, for createLibp2p. */
  libp2pKey: Ed25519PrivateKey;
  peerId: PeerId;
}

/** Creates a fresh identity in memory (testnets use this; `bizra init` persists one). */
export async function generateIdentity(): Promise<NodeIdentity> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return identityFromPem(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'generated key');
}

export async function identityFromPem(pem: string, origin: string): Promise<NodeIdentity> {
  let jwk: { d?: string; x?: string; crv?: string };
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new IdentityError(`${origin} holds a ${key.asymmetricKeyType} key; bizra needs an Ed25519 key`);
    }
    jwk = key.export({ format: 'jwk' });
    // Recompute the public key rather than trusting a stored one.
    jwk.x = createPublicKey(key).export({ format: 'jwk' }).x;
  } catch (err) {
    if (err instanceof IdentityError) throw err;
    throw new IdentityError(`${origin} is not a valid PEM private key: ${(err as Error).message}`);
  }
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  if (seed.length !== 32 || publicKey.length !== 32) throw new IdentityError(`${origin} is not an Ed25519 key`);
  const libp2pKey = await generateKeyPairFromSeed('Ed25519', seed);
  return {
    seed: new Uint8Array(seed),
    publicKey: new Uint8Array(publicKey),
    libp2pKey,
    peerId: peerIdFromPrivateKey(libp2pKey),
  };
}

export function identityToPem(identity: NodeIdentity): string {
  const jwk = {
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(identity.seed).toString('base64url'),
    x: Buffer.from(identity.publicKey).toString('base64url'),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Writes the key file with mode 0600; refuses to overwrite an existing one. */
export function writeIdentity(path: string, identity: NodeIdentity): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new IdentityError(`${path} already exists; refusing to overwrite a node identity`);
    }
    throw new IdentityError(`cannot write ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, identityToPem(identity));
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads the key file. Like ssh, refuses a key that others can read: a leaked
 * node key lets anyone sign as this node.
 */
export async function loadIdentity(path: string): Promise<NodeIdentity> {
  let pem: string;
  let mode: number;
  try {
    const fd = openSync(path, 'r');
    try {
      mode = fstatSync(fd).mode & 0o777;
      pem = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IdentityError(`no node key at ${path}; run \`bizra init\` first`);
    }
    throw new IdentityError(`cannot read node key ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(
      `node key ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); run \`chmod 600 ${path}\``,
    );
  }
  return identityFromPem(pem, path);
}
