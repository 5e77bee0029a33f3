/** The README's settings table, generated from the setting table so the two cannot drift (a test compares them). */
import { envName, flagName, SETTINGS } from './schema.ts';

export function settingsMarkdownTable(): string {
  const rows = SETTINGS.map((s) => {
    const def = JSON.stringify(s.default);
    return `| \`${s.key}\` | \`${flagName(s.key)}\` | \`${envName(s.key)}\` | \`${def}\` | ${s.allowed} | ${s.description.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| key (config file) | flag | environment | default | allowed | what it does |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
