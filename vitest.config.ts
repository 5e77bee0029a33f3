import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{node,protocol,consensus,governance,sim,proto,scripts,testnet}/**/*.test.ts'],
    pool: 'forks',
    // One file at a time: the networked tests run real clusters whose timing (heartbeats,
    // failure detection) would otherwise compete for the two cores with another file's.
    fileParallelism: false,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    // Networked tests start real libp2p nodes and child processes; on a busy
    // 2-core machine they need room. Speed is measured by benchmarks, not here.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
