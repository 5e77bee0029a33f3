/**
 * The PBFT write-ahead log in LevelDB: what a replica persists comes back for recovery
 * (the same records an in-memory log keeps), a stable checkpoint compacts the log in the
 * same batch, a recovered replica refuses votes conflicting with those it signed, every
 * append is all-or-nothing and durable when it resolves (a writer killed with SIGKILL),
 * and a log of another validator set or a damaged record is refused.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KvApp } from '../../consensus/pbft/kv-app.ts';
import { PbftReplica } from '../../consensus/pbft/replica.ts';
import { compactWal } from '../../consensus/pbft/wal.ts';
import { Cluster } from '../../consensus/test/pbft-harness.ts';
import { encodeBatch } from '../../protocol/pbft/codec.ts';
import type { PbftProposal } from '../../protocol/pbft/types.ts';
import { encodeWalRecord, type PbftWalRecord } from '../../protocol/pbft/wal-record.ts';
import { ConfigError } from '../config/errors.ts';
import { PbftLevelWal } from '../consensus/pbft-wal.ts';
import { StoreError } from '../errors.ts';
import { Bucket } from '../store/buckets.ts';
import { Store } from '../store/store.ts';
import { useTempDirs } from './helpers.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const encodedSorted = (records: readonly PbftWalRecord[]): string[] =>
  records.map((r) => hex(encodeWalRecord(r))).sort();

/** A harness cluster whose replica `who` also writes every output's records to a LevelDB WAL, one append per output. */
function mirrored(c: Cluster, who: number): { flush: (wal: PbftLevelWal) => Promise<void> } {
  const batches: PbftWalRecord[][] = [];
  const apply = c.apply.bind(c);
  c.apply = (from, out) => {
    if (from === who && out.persist.length > 0) batches.push([...out.persist]);
    return apply(from, out);
  };
  return {
    flush: async (wal) => {
      for (const b of batches.splice(0)) await wal.append(b);
    },
  };
}

const sub = (store: Store) =>
  store.db.sublevel<Uint8Array, Uint8Array>(Bucket.pbftWal, { keyEncoding: 'view', valueEncoding: 'view' });

async function rawKeys(store: Store): Promise<Uint8Array[]> {
  return (await sub(store).keys().all()) as Uint8Array[];
}

describe('PBFT WAL in LevelDB', () => {
  const tempDir = useTempDirs('bizra-wal-');

  it('gives back, after a reopen, exactly what the in-memory log keeps, and the replica recovers from it', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster(); // checkpoint every 4, window 8
    const mirror = mirrored(c, 2);
    c.startAll();
    for (let i = 0; i < 6; i++) c.submit(c.request(`k${i}`));
    let store = await Store.open(dir);
    const opened = await PbftLevelWal.open(store, 'set-a');
    expect(opened.records).toEqual([]);
    await mirror.flush(opened.wal);
    await store.close();

    store = await Store.open(dir);
    const { records, wal } = await PbftLevelWal.open(store, 'set-a');
    expect(encodedSorted(records)).toEqual(encodedSorted(compactWal(c.wals[2]!.records())));
    expect(wal.stats().stableSeq).toBe(4);
    const before = hex(c.replica(2).stateDigest());
    const r = PbftReplica.recover(
      { validators: c.keys, id: 2 },
      c.opts,
      { signer: c.signers[2]!, app: new KvApp(), verifier: c.verifier },
      records,
    );
    expect(r.lastExecuted).toBe(6);
    expect(r.stableCheckpoint).toBe(4);
    expect(hex(r.stateDigest())).toBe(before);
    await store.close();
  });

  it('compacts on a stable checkpoint in the same batch: nothing at or below it stays on disk', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster();
    const mirror = mirrored(c, 1);
    c.startAll();
    const store = await Store.open(dir);
    const { wal } = await PbftLevelWal.open(store, 'set-a');
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      c.submit(c.request(`k${i}`));
      await mirror.flush(wal);
      peak = Math.max(peak, wal.stats().records);
    }
    expect(c.replica(1).lastExecuted).toBe(30);
    expect(wal.stats().stableSeq).toBe(28);
    // Bounded: at most about one checkpoint interval of sequence numbers plus the view-level keys.
    expect(peak).toBeLessThan(40);
    const keys = await rawKeys(store);
    const seqs = keys
      .filter((k) => k[0] === 0x01)
      .map((k) => Number(new DataView(k.buffer, k.byteOffset, k.byteLength).getBigUint64(1)));
    expect(seqs.length).toBeGreaterThan(0);
    expect(Math.min(...seqs)).toBeGreaterThan(28);
    expect(keys.filter((k) => k[0] === 0x02).length).toBeLessThanOrEqual(4);
    expect(wal.stats().records).toBe(keys.length - 1); // all but the validator-set key
    await store.close();
  });

  it('a replica recovered from disk never signs a PREPARE conflicting with one it signed before the crash', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster();
    const mirror = mirrored(c, 1);
    c.startAll();
    const a = c.request('a');
    const b = c.request('b');
    c.filter = () => false;
    c.apply(1, c.replica(1).receive(c.proposal(0, 0, 1, [a]), c.now));
    let store = await Store.open(dir);
    await mirror.flush((await PbftLevelWal.open(store, 'set-a')).wal);
    await store.close();
    store = await Store.open(dir);
    const { records } = await PbftLevelWal.open(store, 'set-a');
    await store.close();
    c.crash(1);
    const recovered = c.recover(1, records);
    const out = recovered.receive(c.proposal(0, 0, 1, [b]), c.now);
    expect(out.send.filter((s) => s.message.type === 'prepare')).toHaveLength(0);
    expect(out.events).toContainEqual({ kind: 'refused-conflicting-vote', what: 'prepare:0:1' });
  });

  it('an append that cannot be written changes nothing on disk', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster();
    const mirror = mirrored(c, 2);
    c.startAll();
    c.submit(c.request('k0'));
    let store = await Store.open(dir);
    const { wal } = await PbftLevelWal.open(store, 'set-a');
    await mirror.flush(wal);
    const keysBefore = (await rawKeys(store)).map(hex);
    await store.close();
    c.submit(c.request('k1'));
    await expect(mirror.flush(wal)).rejects.toThrow();
    store = await Store.open(dir);
    expect((await rawKeys(store)).map(hex)).toEqual(keysBefore);
    await store.close();
  });

  it('every append is all or nothing, and durable once it resolved: a writer killed with SIGKILL', async () => {
    const dir = join(tempDir(), 'db');
    const writer = fileURLToPath(new URL('./pbft-wal-writer.ts', import.meta.url));
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = -1;
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const lines = d.toString().trim().split('\n');
        acked = Number(lines[lines.length - 1]);
        if (acked >= 40) resolve();
      });
      child.on('exit', (code) => reject(new Error(`writer exited (${code}): ${err}`)));
    });
    child.kill('SIGKILL');
    await exited;
    const store = await Store.open(dir);
    const { records } = await PbftLevelWal.open(store, 'crash-test');
    await store.close();
    const seqs = records.map((r) => (r.kind === 'signed' && r.message.type === 'prepare' ? r.message.seq : -1));
    // Whole batches only (5 each, in order), and at least every one acknowledged before the kill.
    expect(seqs.length % 5).toBe(0);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeGreaterThanOrEqual(5 * (acked + 1));
  });

  it('writes each batch once per sequence number, and puts it back into the records that left it out', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster();
    const mirror = mirrored(c, 0); // the primary: proposal, prepared certificate and executed batch
    c.startAll();
    c.submit(c.request('k0'));
    let store = await Store.open(dir);
    await mirror.flush((await PbftLevelWal.open(store, 'set-a')).wal);
    const proposal = c.wals[0]!.records().find((r) => r.kind === 'signed' && r.message.type === 'proposal');
    expect(proposal?.kind === 'signed' && proposal.message.type === 'proposal').toBe(true);
    const batch = Buffer.from(encodeBatch((proposal as { message: PbftProposal }).message.batch));
    expect(batch.length).toBeGreaterThan(100);
    const seqEntries = async () =>
      (
        (await sub(store)
          .iterator({ gt: Uint8Array.of(0x01), lt: Uint8Array.of(0x02) })
          .all()) as [Uint8Array, Uint8Array][]
      ).filter(([k]) => k.length === 17);
    const holding = (await seqEntries()).filter(([, v]) => Buffer.from(v).includes(batch));
    expect(holding.length).toBe(1);
    const kinds = c.wals[0]!.records().filter((r) => r.kind === 'prepared' || r.kind === 'executed');
    expect(kinds.map((r) => r.kind)).toEqual(['prepared', 'executed']);
    await store.close();

    store = await Store.open(dir);
    const { records } = await PbftLevelWal.open(store, 'set-a');
    expect(encodedSorted(records)).toEqual(encodedSorted(compactWal(c.wals[0]!.records())));
    // Without the record that holds the batch, those that refer to it cannot be read.
    await sub(store).del(holding[0]![0]);
    await store.close();
    store = await Store.open(dir);
    await expect(PbftLevelWal.open(store, 'set-a')).rejects.toThrow(
      /does not decode \(WAL record refers to the batch at sequence 1 .* no earlier record holds it\); the database is damaged/,
    );
    await store.close();
  });

  it('refuses a log of another validator set, and names a damaged record', async () => {
    const dir = join(tempDir(), 'db');
    const c = new Cluster();
    const mirror = mirrored(c, 2);
    c.startAll();
    c.submit(c.request('k0'));
    let store = await Store.open(dir);
    await mirror.flush((await PbftLevelWal.open(store, JSON.stringify({ chainId: 'a', validators: ['x'] }))).wal);
    const other = PbftLevelWal.open(store, JSON.stringify({ chainId: 'b', validators: ['y'] }));
    await expect(other).rejects.toThrow(ConfigError);
    await expect(other).rejects.toThrow(/belongs to another validator set \(chain a, 1 validators\)/);
    // Damage one record.
    const sub = store.db.sublevel<Uint8Array, Uint8Array>(Bucket.pbftWal, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    const key = (await rawKeys(store)).find((k) => k[0] === 0x01)!;
    await sub.put(key, Uint8Array.of(0xff, 0xff, 0xff));
    await store.close();
    store = await Store.open(dir);
    const damaged = PbftLevelWal.open(store, JSON.stringify({ chainId: 'a', validators: ['x'] }));
    await expect(damaged).rejects.toThrow(StoreError);
    await expect(damaged).rejects.toThrow(new RegExp(`PBFT log record ${hex(key)} .* does not decode`));
    await store.close();
  });
});
