/**
 * pino loggers: JSON lines by default, human-readable when stdout is a
 * terminal (or when asked). One root per process; each node and each module
 * takes a child, so hundreds of nodes in one testnet share one stream.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config/schema.ts';

export type { Logger };

export interface LoggerOptions {
  level: LogLevel;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go; defaults to stdout (fd 1). */
  destination?: NodeJS.WritableStream;
  isTTY?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const tty = opts.isTTY ?? process.stdout.isTTY === true;
  const human = opts.format === 'pretty' || (opts.format === 'auto' && tty);
  const base = { level: opts.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (human) {
    // pino-pretty as a stream, not a transport: no worker thread, and lines
    // written before an exit are not lost.
    return pino(
      base,
      pretty({ colorize: tty, sync: true, destination: opts.destination ?? 1, ignore: 'pid,hostname' }),
    );
  }
  return pino(base, opts.destination ?? pino.destination({ dest: 1, sync: true }));
}
