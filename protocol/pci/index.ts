/** The PCI envelope core: one import for the daemon (node/) and the CLI. */
export { PCI_PROTOCOL, PCI_TOPIC } from '../topics.ts';
export {
  AGENT_TYPE_NAMES,
  type AgentTypeName,
  assertFields,
  checkFields,
  type DecodedEnvelope,
  EnvelopeFieldError,
  type EnvelopeFields,
  type EnvelopePayload,
  type UnsignedEnvelopeFields,
} from './fields.ts';
export { type GossipVerdict, pciGossipVerdict } from './gossip.ts';
export {
  type EnvelopeJson,
  envelopeFromJson,
  envelopeToJson,
  type ParsedEnvelopeJson,
  SIGNED_ENVELOPE_JSON_SCHEMA,
  signedEnvelopeFromJson,
} from './json.ts';
export { defaultPciPolicy, type PciPolicy, resolvePciPolicy } from './policy.ts';
export { isRejectCode, REJECT_CODE_LIST, REJECT_CODES, type RejectCode, type RejectName } from './reject-codes.ts';
export { defaultReplayCacheOptions, ReplayCache, type ReplayCacheOptions } from './replay-cache.ts';
export { type SignedEnvelope, signEnvelope } from './sign.ts';
export {
  decodeSubmitResponse,
  encodeSubmitResponse,
  REJECT_CODE_MAX_LENGTH,
  REJECT_REASON_MAX_LENGTH,
  type SubmitResponse,
} from './submit-response.ts';
export {
  checkEnvelope,
  type DecodeResult,
  decodeEnvelope,
  EnvelopeVerifier,
  type EnvelopeVerifierModules,
  type VerifyAccepted,
  type VerifyOptions,
  type VerifyRejected,
  type VerifyResult,
} from './verify.ts';
export { VerifyPool, type VerifyPoolOptions } from './verify-pool.ts';
