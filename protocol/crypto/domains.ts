/**
 * Domain tags: the one table of them. Every signature and every protocol hash covers
 * BLAKE3(utf8(tag) || 0x00 || bytes), so bytes signed for one purpose can never be
 * replayed as valid for another (a PCI body as a consensus vote, say), even where the
 * two encodings happen to coincide.
 *
 * Rules: a tag is `bizra/<purpose>/v<N>` in lowercase ASCII with no NUL (the 0x00 that
 * ends it must be unambiguous); a tag is never reused for other bytes, and a change
 * to what is signed gets a new version. protocol/README.md copies this table and a
 * test keeps the copy current.
 */
export const DOMAINS = {
  /** EnvelopeBody of a PCI envelope: its Ed25519 signature and its id. */
  PCI_ENVELOPE: 'bizra/pci/v1',
  /** HeartbeatBody of a membership heartbeat: its Ed25519 signature. */
  HEARTBEAT: 'bizra/heartbeat/v1',
} as const;

export type DomainTag = (typeof DOMAINS)[keyof typeof DOMAINS];

/** What each tag covers, in the words of protocol/README.md's table. */
export const DOMAIN_DESCRIPTIONS: Readonly<Record<DomainTag, string>> = Object.freeze({
  'bizra/pci/v1': 'PCI envelope: the canonical `EnvelopeBody` bytes (signature and envelope id)',
  'bizra/heartbeat/v1': 'Membership heartbeat: the canonical `HeartbeatBody` bytes (signature)',
});
