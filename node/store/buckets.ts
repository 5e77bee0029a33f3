/**
 * The one registry of LevelDB key spaces. Every record lives in a sublevel
 * named here. A bucket that is no longer used moves to RETIRED_BUCKETS and its
 * name is never given to anything else, so old data can never be misread.
 */
export const Bucket = {
  /** Schema version, creation time, boot counter. Keys are strings, values JSON. */
  meta: 'meta',
  /** libp2p's datastore: the peer store (addresses, protocols, keys) and DHT records. */
  libp2p: 'libp2p',
  /** Accepted PCI envelopes by id (hex): arrival sequence, source, wire bytes. */
  pciEnvelopes: 'pci',
  /** Arrival index: zero-padded sequence number -> envelope id, for paging in arrival order. */
  pciArrival: 'pci-seq',
  /**
   * The PBFT replica's write-ahead log (binary keys, node/consensus/pbft-wal.ts):
   * 0x00 the validator set it belongs to; 0x01 | seq (8 bytes BE) | counter (8 bytes BE)
   * the records about a sequence number; 0x02 | kind the last view-level record of
   * each kind and the last stable checkpoint.
   */
  pbftWal: 'pbft-wal',
} as const;

export type BucketName = (typeof Bucket)[keyof typeof Bucket];

/** Names once used and now retired. Never reuse one. */
export const RETIRED_BUCKETS: readonly string[] = [];

/** The on-disk layout version this build reads and writes. Bump it with a migration. */
export const SCHEMA_VERSION = 1;

/** Keys inside the meta bucket. */
export const MetaKey = {
  schemaVersion: 'schemaVersion',
  createdAt: 'createdAt',
  bootCount: 'bootCount',
  lastBootAt: 'lastBootAt',
} as const;
