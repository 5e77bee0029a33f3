/**
 * The two ways sim/ refuses input. Both carry a message that names the offending path,
 * so a caller (the CLI, a peer re-executing a result) can print it as one line.
 */

/** A reform (or a household description) that cannot be applied: unknown path, wrong type, out of range. */
export class ReformError extends Error {
  override readonly name = 'ReformError';
  /** The parameter path or JSON field at fault, e.g. `income_tax.basic_rate` or `year`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/** A shipped data file (parameters, population spec, IO table, gates) is malformed: a bug in the release. */
export class SimDataError extends Error {
  override readonly name = 'SimDataError';
}
