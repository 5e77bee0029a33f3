/** The CLI's outside world, passed in so commands can be run and checked in tests. */
export interface CliIo {
  env: Record<string, string | undefined>;
  print(...lines: string[]): void;
  printErr(...lines: string[]): void;
}

export const processIo: CliIo = {
  env: process.env,
  print: (...lines) => {
    process.stdout.write(`${lines.join('\n')}\n`);
  },
  printErr: (...lines) => {
    process.stderr.write(`${lines.join('\n')}\n`);
  },
};
