/**
 * The PBFT types of proto/bizra.proto, looked up in the root that protocol/codec/schema.ts
 * loaded (one parse of the file for the whole process).
 */
import { EnvelopeBodyType } from '../codec/schema.ts';

export function loadPbftTypes() {
  const root = EnvelopeBodyType.root;
  const t = (name: string) => root.lookupType(`bizra.v1.${name}`);
  return {
    requestBody: t('PbftRequestBody'),
    batch: t('PbftBatch'),
    voteBody: t('PbftVoteBody'),
    checkpointBody: t('PbftCheckpointBody'),
    viewChangeBody: t('PbftViewChangeBody'),
    newViewBody: t('PbftNewViewBody'),
    replyLeaf: t('PbftReplyLeaf'),
    replyRootBody: t('PbftReplyRootBody'),
    statusBody: t('PbftStatusBody'),
    snapshot: t('PbftStateSnapshot'),
    message: t('PbftMessage'),
    walRecord: t('PbftWalRecord'),
  };
}
