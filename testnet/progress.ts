/**
 * Start-up progress on stderr: a cli-progress bar on a terminal, otherwise one
 * plain line every `every` nodes (and at the end), so logs of CI runs stay readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function startProgress(
  total: number,
  opts: { label?: string; stream?: NodeJS.WriteStream; every?: number } = {},
): Progress {
  const stream = opts.stream ?? process.stderr;
  const label = opts.label ?? 'starting nodes';
  const started = performance.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {value}/{total} | {duration_formatted} elapsed | eta {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  const every = opts.every ?? 10;
  let last = 0;
  return {
    update(done) {
      if (done === last) return;
      last = done;
      if (done % every === 0 || done === total) {
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        stream.write(`${label}: ${done}/${total} (${secs} s)\n`);
      }
    },
    stop() {},
  };
}
