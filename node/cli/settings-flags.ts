/** Every setting in the table becomes a flag of the commands that read settings. */
import { type Command, Option } from 'commander';
import { envName, flagName, SETTINGS } from '../config/schema.ts';

/** Adds one flag per setting and returns a map from commander's attribute name to the setting key. */
export function addSettingFlags(cmd: Command): Map<string, string> {
  const attrToKey = new Map<string, string>();
  for (const s of SETTINGS) {
    const flag = flagName(s.key);
    const placeholder = s.kind === 'list' ? '<value>' : s.kind === 'bool' ? '<true|false>' : '<value>';
    const help = `${s.description} Allowed: ${s.allowed}. Env: ${envName(s.key)}.${s.kind === 'list' ? ' Repeat the flag or separate with commas.' : ''}`;
    const option = new Option(`${flag} ${placeholder}`, help);
    if (s.kind === 'list') option.argParser((value: string, prev: string[] | undefined) => [...(prev ?? []), value]);
    cmd.addOption(option);
    attrToKey.set(option.attributeName(), s.key);
  }
  return attrToKey;
}

/** Picks the setting flags out of commander's parsed options, keyed by setting key. */
export function settingFlagValues(
  opts: Record<string, unknown>,
  attrToKey: Map<string, string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [attr, key] of attrToKey) {
    if (opts[attr] !== undefined) out[key] = opts[attr];
  }
  return out;
}
