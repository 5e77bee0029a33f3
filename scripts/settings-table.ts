// The README's settings table, generated from node/config/schema.ts.
//   npm exec -- node scripts/settings-table.ts           prints it
//   npm exec -- node scripts/settings-table.ts --write   rewrites it in README.md
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdownTable } from '../node/config/docs.ts';

const table = settingsMarkdownTable();
if (process.argv.includes('--write')) {
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf('\n', readme.indexOf('<!-- settings-table:start')) + 1;
  const end = readme.indexOf('<!-- settings-table:end -->');
  if (start <= 0 || end < start) throw new Error('README.md has no settings-table markers');
  writeFileSync(path, `${readme.slice(0, start)}${table}\n${readme.slice(end)}`);
} else {
  process.stdout.write(`${table}\n`);
}
