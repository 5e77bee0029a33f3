/** A configuration problem an operator can fix; printed without a stack trace. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
