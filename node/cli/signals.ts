/**
 * SIGINT/SIGTERM stop the node gracefully (API, then libp2p, then the store is
 * flushed and closed). A second signal, or a shutdown that overruns its time
 * limit, exits at once.
 */
import type { Logger } from '../log.ts';
import type { BizraNode } from '../node.ts';

export function handleShutdownSignals(node: BizraNode, opts: { timeoutMs: number; logger: Logger }): void {
  const { logger } = opts;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
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
