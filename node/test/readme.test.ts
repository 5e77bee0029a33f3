/** The README's reference tables are checked against the code, so the docs cannot drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsMarkdownTable } from '../config/docs.ts';
import { NodeMetrics } from '../metrics/node-metrics.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(name: string): string {
  const start = readme.indexOf(`<!-- ${name}:start`);
  const end = readme.indexOf(`<!-- ${name}:end -->`);
  expect(start, `${name} markers`).toBeGreaterThan(-1);
  return readme.slice(readme.indexOf('\n', start) + 1, end).trim();
}

describe('README', () => {
  it('carries the current settings table', () => {
    // On failure: npm exec -- node scripts/settings-table.ts --write
    expect(section('settings-table')).toBe(settingsMarkdownTable());
  });

  it('lists every bizra_ metric', async () => {
    const metrics = new NodeMetrics({ processMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('bizra_'));
    expect(names.length).toBeGreaterThan(5);
    const table = section('metrics-table');
    for (const name of names) expect(table, name).toContain(`\`${name}\``);
  });

  it('lists every domain tag', async () => {
    const { DOMAIN_DESCRIPTIONS } = await import('../../protocol/crypto/domains.ts');
    const table = section('domain-tags');
    for (const [tag, covers] of Object.entries(DOMAIN_DESCRIPTIONS))
      expect(table).toContain(`| \`${tag}\` | ${covers} |`);
  });

  it('gives the two set-up commands, and .ci/run runs the same test command', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/^npm ci && npm test$/m);
  });
});
