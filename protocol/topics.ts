/**
 * Gossipsub topics and libp2p protocol ids, versioned so that an incompatible
 * change gets a new name instead of confusing old peers.
 */
export const FEDERATION_TOPIC = 'bizra/federation/1';

/** kad-dht protocol of our own, so BIZRA nodes never join the public IPFS DHT. */
export const DHT_PROTOCOL = '/bizra/kad/1.0.0';

/** PCI envelope submission: one length-prefixed Envelope in, one PciSubmitResponse out. */
export const PCI_PROTOCOL = '/bizra/pci/1.0.0';

/** Gossipsub topic on which accepted PCI envelopes (Envelope wire bytes) are relayed. */
export const PCI_TOPIC = 'bizra/pci/1';

/**
 * The heartbeat relay: long-lived links on which each side sends HeartbeatBatch
 * frames (varint length, then the batch) of the signed heartbeats it accepted.
 */
export const HEARTBEAT_PROTOCOL = '/bizra/heartbeat/1.0.0';

/**
 * PBFT among the validators of a validator set: long-lived direct streams, one opened by
 * each validator to each other one, carrying varint-length-prefixed PbftMessage frames
 * (protocol/pbft/codec.ts) in the opener's direction only.
 */
export const PBFT_PROTOCOL = '/bizra/pbft/1.0.0';
