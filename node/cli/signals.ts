/**
 * SIGINT/SIGTERM stop the node gracefully (API, then libp2p, then the store is
 * flushed and closed). A second signal, or a shutdown that overruns its time
 * limit, exits at once.
 *
 * A repeat that arrives within DUPLICATE_SIGNAL_MS of the first is the same request,
 * not an operator's second press: `npm start` in a terminal gets Ctrl-C's SIGINT from
 * the terminal (it goes to the whole foreground process group) and npm forwards its own
 * copy to the node, and `timeout`, process supervisors and `kill` of a process group do
 * the same with SIGTERM. Counted as a second signal, every such stop skipped the
 * graceful shutdown.
 */
import type { Logger } from '../log.ts';
import type { BizraNode } from '../node.ts';

export const DUPLICATE_SIGNAL_MS = 1000;

export type SignalVerdict = 'stop' | 'duplicate' | 'force';

/** What each shutdown signal means, given when it came (ms): the first stops, a quick repeat is ignored, a later one forces. */
export function signalJudge(): (nowMs: number) => SignalVerdict {
  let firstAt: number | null = null;
  return (nowMs) => {
    if (firstAt === null) {
      firstAt = nowMs;
      return 'stop';
    }
    return nowMs - firstAt < DUPLICATE_SIGNAL_MS ? 'duplicate' : 'force';
  };
}

export function handleShutdownSignals(node: BizraNode, opts: { timeoutMs: number; logger: Logger }): void {
  const { logger } = opts;
  const judge = signalJudge();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const verdict = judge(performance.now());
    if (verdict === 'duplicate') {
      logger.debug({ signal }, 'repeat of the shutdown signal within a second: already stopping');
      return;
    }
    if (verdict === 'force') {
      logger.warn({ signal }, 'second signal: exiting without finishing shutdown');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down (send the signal again to force)');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: opts.timeoutMs }, 'shutdown overran its time limit; exiting');
      process.exit(1);
    }, opts.timeoutMs);
    timer.unref();
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown finished with errors');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A stray rejection inside a networking library must not take the node down;
  // it is logged so it can be found and fixed.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; stopping');
    if (!stopping) onSignal('SIGTERM');
  });
}
