/** Config changes for every node of a testnet, as plain data that can cross to a worker thread. */
import type { NodeConfig } from '../node/config/schema.ts';

/** Settings by dotted key (`membership.relayDegree`), applied to every node's config. */
export type SettingOverrides = Record<string, string | number | boolean | string[]>;

/** Sets `config.a.b` for the key `a.b`; refuses keys the config does not have. */
export function applySettings(config: NodeConfig, settings: SettingOverrides): void {
  for (const [key, value] of Object.entries(settings)) {
    const [section, field] = key.split('.');
    const target = (config as unknown as Record<string, Record<string, unknown>>)[section ?? ''];
    if (target === undefined || field === undefined || !(field in target)) throw new Error(`unknown setting ${key}`);
    target[field] = value;
  }
}
