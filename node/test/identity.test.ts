import { createPublicKey, sign, verify } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity, IdentityError, identityToPem, loadIdentity, writeIdentity } from '../identity.ts';
import { useTempDirs } from './helpers.ts';

describe('node identity', () => {
  const dir = useTempDirs();

  it('writes the key with mode 0600 and loads the same peer id back', async () => {
    const file = join(dir(), 'node_key.pem');
    const id = await generateIdentity();
    writeIdentity(file, id);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const loaded = await loadIdentity(file);
    expect(loaded.peerId.toString()).toBe(id.peerId.toString());
    expect(Buffer.from(loaded.publicKey)).toEqual(Buffer.from(id.publicKey));
    expect(loaded.peerId.toString()).toMatch(/^12D3KooW/);
  });

  it('stores a standard PKCS#8 Ed25519 key that node:crypto signs with', async () => {
    const file = join(dir(), 'node_key.pem');
    const id = await generateIdentity();
    writeIdentity(file, id);
    const pem = readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const message = Buffer.from('bizra');
    const signature = sign(null, message, pem);
    const rawPublic = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(id.publicKey).toString('base64url') },
      format: 'jwk',
    });
    expect(verify(null, message, rawPublic, signature)).toBe(true);
    // libp2p's key is the same key: its signature verifies with the same public key.
    const libp2pSig = await id.libp2pKey.sign(message);
    expect(verify(null, message, rawPublic, Buffer.from(libp2pSig))).toBe(true);
  });

  it('refuses to overwrite an existing key', async () => {
    const file = join(dir(), 'node_key.pem');
    writeIdentity(file, await generateIdentity());
    const before = readFileSync(file, 'utf8');
    await expect(async () => writeIdentity(file, await generateIdentity())).rejects.toThrow(/refusing to overwrite/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses a key file others can read', async () => {
    const file = join(dir(), 'node_key.pem');
    writeIdentity(file, await generateIdentity());
    chmodSync(file, 0o644);
    await expect(loadIdentity(file)).rejects.toThrow(/readable by others \(mode 0644\); run `chmod 600/);
  });

  it('explains a missing or garbled key file', async () => {
    const d = dir();
    await expect(loadIdentity(join(d, 'none.pem'))).rejects.toThrow(/no node key .* run `bizra init`/);
    const bad = join(d, 'bad.pem');
    writeFileSync(bad, 'not a key', { mode: 0o600 });
    await expect(loadIdentity(bad)).rejects.toThrow(IdentityError);
    await expect(loadIdentity(bad)).rejects.toThrow(/not a valid PEM private key/);
  });

  it('refuses a key of another type', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const file = join(dir(), 'ec.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await expect(loadIdentity(file)).rejects.toThrow(/holds a ec key; bizra needs an Ed25519 key/);
  });

  it('round-trips through PEM', async () => {
    const id = await generateIdentity();
    const file = join(dir(), 'k.pem');
    writeFileSync(file, identityToPem(id), { mode: 0o600 });
    expect((await loadIdentity(file)).peerId.equals(id.peerId)).toBe(true);
  });
});
