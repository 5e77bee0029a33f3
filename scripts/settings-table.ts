// Prints the README's settings table: `npm exec -- node scripts/settings-table.ts`.
import { settingsMarkdownTable } from '../node/config/docs.ts';

process.stdout.write(`${settingsMarkdownTable()}\n`);
