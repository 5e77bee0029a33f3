/** What the PBFT benchmarks read from a node's metrics registry (shared by the driver and the replica workers). */
import type { BizraNode } from '../node/node.ts';

/** Sum and count of the WAL write histogram (bizra_pbft_wal_write_seconds). */
export async function walStats(n: BizraNode): Promise<{ sum: number; count: number }> {
  const m = (await n.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'bizra_pbft_wal_write_seconds');
  const values = (m?.values ?? []) as { metricName?: string; value: number }[];
  return {
    sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
    count: values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
  };
}

/** What the benchmark reads of `n`'s replica state at each reading, beside its counters. */
export async function replicaState(
  n: BizraNode,
): Promise<{ view: number; redundant: number; pipelineWindow: number; primary: boolean }> {
  const status = n.consensus!.status();
  return {
    view: status?.view ?? 0,
    redundant: await redundantInputs(n),
    pipelineWindow: status?.pipelineWindow ?? 0,
    primary: status !== null && status.primary === status.id,
  };
}

/** Inputs `n`'s replica refused as `duplicate` or `not-needed` (bizra_pbft_messages_total): retransmissions it did not need. */
export async function redundantInputs(n: BizraNode): Promise<number> {
  const m = (await n.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'bizra_pbft_messages_total');
  let sum = 0;
  for (const v of m?.values ?? []) {
    if (v.labels['result'] === 'duplicate' || v.labels['result'] === 'not-needed') sum += v.value;
  }
  return sum;
}
