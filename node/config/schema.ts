/**
 * The one table of settings. Each entry names its key (as written in the config
 * file), and from that key the flag (`--api-port`) and the environment variable
 * (`BIZRA_API_PORT`) are derived, so the three sources can never drift apart.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export const PROFILES = ['default', 'testnet'] as const;
export type Profile = (typeof PROFILES)[number];

export type SettingKind = 'int' | 'number' | 'string' | 'enum' | 'bool' | 'list';

export interface SettingSpec {
  /** Dotted key, e.g. `api.port`; the config file section is the part before the dot. */
  readonly key: string;
  readonly kind: SettingKind;
  readonly schema: z.ZodType;
  /** Human description of what values are allowed, used in every error message. */
  readonly allowed: string;
  readonly description: string;
  readonly default: unknown;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const multiaddrString = z.string().regex(/^\/[a-z0-9]+\//i, 'must be a multiaddr such as /ip4/127.0.0.1/tcp/9000');

function setting(spec: SettingSpec): SettingSpec {
  return spec;
}

export const SETTINGS = [
  setting({
    key: 'profile',
    kind: 'enum',
    schema: z.enum(PROFILES),
    allowed: `one of ${PROFILES.join(', ')}`,
    description:
      'Network profile. `testnet` allows many nodes on one loopback address (allow-list 127.0.0.1, no gossipsub IP-colocation penalty, DHT keeps private addresses).',
    default: 'default',
  }),
  setting({
    key: 'log.level',
    kind: 'enum',
    schema: z.enum(LOG_LEVELS),
    allowed: `one of ${LOG_LEVELS.join(', ')}`,
    description: 'Lowest log level written.',
    default: 'info',
  }),
  setting({
    key: 'log.format',
    kind: 'enum',
    schema: z.enum(LOG_FORMATS),
    allowed: `one of ${LOG_FORMATS.join(', ')}`,
    description: '`auto` writes human-readable lines when stdout is a terminal and JSON lines otherwise.',
    default: 'auto',
  }),
  setting({
    key: 'p2p.listen',
    kind: 'list',
    schema: z.array(multiaddrString),
    allowed: 'a list of multiaddrs, e.g. /ip4/0.0.0.0/tcp/9000',
    description: 'Addresses the libp2p host listens on. Port 0 picks a free port.',
    default: ['/ip4/0.0.0.0/tcp/9000'],
  }),
  setting({
    key: 'p2p.announce',
    kind: 'list',
    schema: z.array(multiaddrString),
    allowed: 'a list of multiaddrs',
    description: 'Addresses advertised to peers instead of the listen addresses (e.g. behind NAT).',
    default: [],
  }),
  setting({
    key: 'p2p.bootstrap',
    kind: 'list',
    schema: z.array(multiaddrString.regex(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/, 'must end in /p2p/<peer id>')),
    allowed: 'a list of multiaddrs ending in /p2p/<peer id>',
    description: 'Peers dialled at start to join the federation.',
    default: [],
  }),
  setting({
    key: 'p2p.maxConnections',
    kind: 'int',
    schema: int(1, 100_000),
    allowed: 'an integer from 1 to 100000',
    description: 'Connections kept open at most; beyond this the connection manager prunes.',
    default: 300,
  }),
  setting({
    key: 'p2p.maxIncomingPendingConnections',
    kind: 'int',
    schema: int(1, 10_000),
    allowed: 'an integer from 1 to 10000',
    description: 'Inbound connections still upgrading (Noise, Yamux) at most.',
    default: 10,
  }),
  setting({
    key: 'p2p.inboundConnectionThreshold',
    kind: 'int',
    schema: int(1, 100_000),
    allowed: 'an integer from 1 to 100000',
    description: 'Inbound connections accepted per second from one IP (allow-listed addresses are exempt).',
    default: 5,
  }),
  setting({
    key: 'p2p.dialTimeoutMs',
    kind: 'int',
    schema: int(100, 600_000),
    allowed: 'an integer from 100 to 600000 (milliseconds)',
    description: 'How long one dial may take, including the Noise and Yamux upgrade.',
    default: 10_000,
  }),
  setting({
    key: 'p2p.reconnectPeers',
    kind: 'int',
    schema: int(0, 1000),
    allowed: 'an integer from 0 to 1000',
    description:
      'At start, dial up to this many peers remembered from earlier runs (most recently connected first), so a restarted node rejoins without bootstrap peers. 0 turns it off. (kad-dht separately re-pings the DHT peers it kept in the persisted peer store.)',
    default: 20,
  }),
  setting({
    key: 'p2p.dht',
    kind: 'bool',
    schema: z.boolean(),
    allowed: 'true or false',
    description:
      'Run the kad-dht (peer discovery beyond the bootstrap list). Large single-process testnets may turn it off: it multiplies connections and memory per node.',
    default: true,
  }),
  setting({
    key: 'p2p.allow',
    kind: 'list',
    schema: z.array(multiaddrString),
    allowed: 'a list of multiaddr prefixes, e.g. /ip4/10.0.0.1',
    description: 'Addresses never rate-limited or pruned by the connection manager.',
    default: [],
  }),
  setting({
    key: 'api.enabled',
    kind: 'bool',
    schema: z.boolean(),
    allowed: 'true or false',
    description: 'Serve the HTTP API (/health, /metrics, /v1/...).',
    default: true,
  }),
  setting({
    key: 'api.host',
    kind: 'string',
    schema: z.string().min(1),
    allowed: 'an interface address such as 127.0.0.1, 0.0.0.0 or ::1',
    description: 'Address the HTTP API binds to. Keep it on loopback unless a proxy guards it.',
    default: '127.0.0.1',
  }),
  setting({
    key: 'api.port',
    kind: 'int',
    schema: int(0, 65_535),
    allowed: 'an integer from 0 to 65535 (0 picks a free port)',
    description: 'Port of the HTTP API.',
    default: 9100,
  }),
  setting({
    key: 'api.bodyLimitBytes',
    kind: 'int',
    schema: int(1024, 64 * 1024 * 1024),
    allowed: 'an integer from 1024 to 67108864',
    description: 'Largest request body the API accepts; larger bodies get 413.',
    default: 1024 * 1024,
  }),
  setting({
    key: 'pci.ihsanThreshold',
    kind: 'number',
    schema: z.number().min(0).max(1),
    allowed: 'a number from 0 to 1',
    description: 'Lowest ihsan_score a PCI envelope may carry; below it the envelope is rejected with R003.',
    default: 0.95,
  }),
  setting({
    key: 'pci.snrThreshold',
    kind: 'number',
    schema: z.number().min(0).max(1),
    allowed: 'a number from 0 to 1',
    description: 'Lowest snr_score a PCI envelope may carry; below it the envelope is rejected with R004.',
    default: 0.85,
  }),
  setting({
    key: 'pci.maxFutureSkewMs',
    kind: 'int',
    schema: int(0, 3_600_000),
    allowed: 'an integer from 0 to 3600000 (milliseconds)',
    description: "How far ahead of this node's clock an envelope's timestamp may be; beyond it R007.",
    default: 30_000,
  }),
  setting({
    key: 'pci.maxTtlSeconds',
    kind: 'int',
    schema: int(1, 31_536_000),
    allowed: 'an integer from 1 to 31536000 (seconds)',
    description:
      'Longest TTL an envelope may ask for (R005 above it); it bounds how long ids are remembered against replay.',
    default: 86_400,
  }),
  setting({
    key: 'pci.maxEnvelopeBytes',
    kind: 'int',
    schema: int(256, 16 * 1024 * 1024),
    allowed: 'an integer from 256 to 16777216',
    description:
      'Largest envelope accepted, in wire bytes, checked before decoding (HTTP 413, R005 on streams and gossip).',
    default: 1024 * 1024,
  }),
  setting({
    key: 'pci.rateLimitPerSecond',
    kind: 'number',
    schema: z.number().gt(0).max(1_000_000),
    allowed: 'a number above 0, at most 1000000',
    description:
      'Envelope submissions accepted per second from one peer (stream) or one client address (HTTP); beyond it HTTP 429.',
    default: 100,
  }),
  setting({
    key: 'pci.rateLimitBurst',
    kind: 'int',
    schema: int(1, 1_000_000),
    allowed: 'an integer from 1 to 1000000',
    description: 'Submissions one peer or client may make at once before the per-second rate applies.',
    default: 200,
  }),
  setting({
    key: 'pci.seenCacheSize',
    kind: 'int',
    schema: int(100, 10_000_000),
    allowed: 'an integer from 100 to 10000000',
    description:
      'Envelope ids remembered for replay detection (R006) and gossip de-duplication; oldest forgotten first.',
    default: 100_000,
  }),
  setting({
    key: 'membership.enabled',
    kind: 'bool',
    schema: z.boolean(),
    allowed: 'true or false',
    description:
      "Send signed heartbeats and watch every peer's (phi-accrual failure detection). Every node hears every heartbeat, so each costs N heartbeats a second to check.",
    default: true,
  }),
  setting({
    key: 'membership.heartbeatIntervalMs',
    kind: 'int',
    schema: int(100, 60_000),
    allowed: 'an integer from 100 to 60000 (milliseconds)',
    description: "How often this node publishes its signed heartbeat (and the first guess of everyone's interval).",
    default: 1000,
  }),
  setting({
    key: 'membership.phiThreshold',
    kind: 'number',
    schema: z.number().min(0.5).max(50),
    allowed: 'a number from 0.5 to 50',
    description:
      "Suspicion level (phi) at which a silent peer becomes SUSPECT. Akka's default 8 means about 4.5 s of silence at 1 s heartbeats.",
    default: 8,
  }),
  setting({
    key: 'membership.acceptablePauseMs',
    kind: 'int',
    schema: int(0, 600_000),
    allowed: 'an integer from 0 to 600000 (milliseconds)',
    description:
      'Silence tolerated on top of the usual interval before suspicion rises; also the local stall beyond which a tick convicts nobody.',
    default: 3000,
  }),
  setting({
    key: 'membership.minStdDeviationMs',
    kind: 'int',
    schema: int(1, 60_000),
    allowed: 'an integer from 1 to 60000 (milliseconds)',
    description:
      'Floor on the heartbeat-interval deviation the detector assumes, so very regular peers are not suspected for small jitter.',
    default: 100,
  }),
  setting({
    key: 'membership.activeAfterHeartbeats',
    kind: 'int',
    schema: int(1, 100),
    allowed: 'an integer from 1 to 100',
    description: 'Regular heartbeats a JOINING peer must send before it counts as ACTIVE.',
    default: 3,
  }),
  setting({
    key: 'membership.deadAfterMs',
    kind: 'int',
    schema: int(1000, 3_600_000),
    allowed: 'an integer from 1000 to 3600000 (milliseconds)',
    description: 'How long a peer stays SUSPECT before it is declared DEAD.',
    default: 20_000,
  }),
  setting({
    key: 'membership.relayDelayMs',
    kind: 'int',
    schema: int(0, 1000),
    allowed: 'an integer from 0 to 1000 (milliseconds)',
    description:
      'How long the heartbeat relay holds an accepted heartbeat so that others can share its frame: the most each hop adds to its travel.',
    default: 30,
  }),
  setting({
    key: 'membership.relayDegree',
    kind: 'int',
    schema: int(1, 64),
    allowed: 'an integer from 1 to 64',
    description:
      'Heartbeat relay links this node opens to connected peers (it accepts others up to three times as many links in all).',
    default: 2,
  }),
  setting({
    key: 'membership.maxClockSkewMs',
    kind: 'int',
    schema: int(1000, 3_600_000),
    allowed: 'an integer from 1000 to 3600000 (milliseconds)',
    description: 'Heartbeats whose timestamp is further than this from our clock are ignored as stale.',
    default: 60_000,
  }),
  setting({
    key: 'consensus.validatorSet',
    kind: 'string',
    schema: z.string(),
    allowed: 'a file path (relative paths are taken from the data dir), or empty for none',
    description:
      'The validator-set (genesis) file of the PBFT federation this node belongs to (`bizra consensus genesis` writes one; `bizra init --chain-id` writes a one-validator set and sets this; docs/pbft.md gives the format). Empty: no consensus. A node whose key is not in the set runs no replica.',
    default: '',
  }),
  setting({
    key: 'consensus.requestTimeoutMs',
    kind: 'int',
    schema: int(100, 600_000),
    allowed: 'an integer from 100 to 600000 (milliseconds)',
    description:
      'How long `POST /v1/consensus/requests` waits for the request to commit before answering 504 (it may still commit; resubmit the same signed request to get its result).',
    default: 10_000,
  }),
  setting({
    key: 'consensus.batchDelayMs',
    kind: 'int',
    schema: int(0, 10_000),
    allowed: 'an integer from 0 to 10000 (milliseconds)',
    description:
      'How long the primary holds a partial batch for more requests (0 proposes at once); a full batch (batchSize of the validator set) goes at once.',
    default: 2,
  }),
  setting({
    key: 'consensus.viewChangeTimeoutMs',
    kind: 'int',
    schema: int(50, 600_000),
    allowed: 'an integer from 50 to 600000 (milliseconds)',
    description:
      'How long a backup waits for a pending request to execute before it suspects the primary and starts a view change; doubles with each view change (up to 60 s) until the replica has caught up again.',
    default: 2000,
  }),
  setting({
    key: 'consensus.maxBatchesInFlight',
    kind: 'int',
    schema: int(1, 256),
    allowed: 'an integer from 1 to 256',
    description:
      'Most batches the node keeps in flight as primary (proposed, not yet executed). It halves its own bound while batches take longer than a quarter of `consensus.viewChangeTimeoutMs` from proposal to execution, grows it back by one per round, and restarts it at 1 when the node becomes the primary of a new view, so that an overloaded federation queues requests at the primary instead of changing views; on a network with long round trips raise `consensus.viewChangeTimeoutMs` to several of them.',
    default: 8,
  }),
  setting({
    key: 'consensus.verifyWorkers',
    kind: 'int',
    schema: int(0, 64),
    allowed: 'an integer from 0 to 64',
    description:
      'Worker threads that check PBFT signatures (client requests, votes) before the replica sees them, so a validator uses more than one core; 0 checks them on the event loop. One per core the node can spare is a good start (docs/pbft.md).',
    default: 0,
  }),
  setting({
    key: 'consensus.statusIntervalMs',
    kind: 'int',
    schema: int(10, 60_000),
    allowed: 'an integer from 10 to 60000 (milliseconds)',
    description:
      "How often the replica sends its signed STATUS, to which the others answer with what it lacks (lost votes, the NEW-VIEW or the VIEW-CHANGEs it names, committed batches, a state transfer). Held while the replica's input queue is more than one interval behind.",
    default: 500,
  }),
  setting({
    key: 'shutdown.timeoutMs',
    kind: 'int',
    schema: int(100, 600_000),
    allowed: 'an integer from 100 to 600000 (milliseconds)',
    description: 'How long a graceful shutdown may take before the process exits anyway.',
    default: 10_000,
  }),
] as const satisfies readonly SettingSpec[];

export interface NodeConfig {
  profile: Profile;
  log: { level: LogLevel; format: (typeof LOG_FORMATS)[number] };
  p2p: {
    listen: string[];
    announce: string[];
    bootstrap: string[];
    maxConnections: number;
    maxIncomingPendingConnections: number;
    inboundConnectionThreshold: number;
    dialTimeoutMs: number;
    reconnectPeers: number;
    dht: boolean;
    allow: string[];
  };
  api: { enabled: boolean; host: string; port: number; bodyLimitBytes: number };
  pci: {
    ihsanThreshold: number;
    snrThreshold: number;
    maxFutureSkewMs: number;
    maxTtlSeconds: number;
    maxEnvelopeBytes: number;
    rateLimitPerSecond: number;
    rateLimitBurst: number;
    seenCacheSize: number;
  };
  membership: {
    enabled: boolean;
    heartbeatIntervalMs: number;
    phiThreshold: number;
    acceptablePauseMs: number;
    minStdDeviationMs: number;
    activeAfterHeartbeats: number;
    deadAfterMs: number;
    relayDelayMs: number;
    relayDegree: number;
    maxClockSkewMs: number;
  };
  consensus: {
    validatorSet: string;
    requestTimeoutMs: number;
    batchDelayMs: number;
    viewChangeTimeoutMs: number;
    maxBatchesInFlight: number;
    statusIntervalMs: number;
    verifyWorkers: number;
  };
  shutdown: { timeoutMs: number };
}

export function findSetting(key: string): SettingSpec | undefined {
  return SETTINGS.find((s) => s.key === key);
}

/** `p2p.maxConnections` -> `--p2p-max-connections` */
export function flagName(key: string): string {
  return `--${key.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `p2p.maxConnections` -> `BIZRA_P2P_MAX_CONNECTIONS` */
export function envName(key: string): string {
  return `BIZRA_${key
    .replace(/\./g, '_')
    .replace(/[A-Z]/g, (c) => `_${c}`)
    .toUpperCase()}`;
}

/** The built-in defaults as a NodeConfig. */
export function defaultConfig(): NodeConfig {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) setPath(out, s.key, structuredClone(s.default));
  return out as unknown as NodeConfig;
}

export function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = target;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (typeof next !== 'object' || next === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}
