/**
 * The errors an operator can act on, in one light module: the CLI maps them to
 * exit codes without loading libp2p, LevelDB or fastify.
 */
export { ConfigError } from './config/errors.ts';

/** The node key is missing, unreadable, of the wrong type or too widely readable. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/** Another daemon holds the data dir. */
export class LockError extends Error {
  override readonly name = 'LockError';
}

/** The database cannot be opened or used: locked, corrupt, foreign, or of another schema. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** A node operation was refused; `code` says which way (also used as the API error code). */
export class NodeError extends Error {
  override readonly name = 'NodeError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
