#!/usr/bin/env node
// The `bizra` command. Plain JavaScript so that an old Node.js gets a clear
// message instead of a syntax error: the sources are TypeScript run directly
// by Node's type stripping (Node >= 22.18; the project pins Node 24).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `bizra: needs Node.js 24 (found ${process.version}). Run it through npm (\`npm start\`, \`npm run bizra -- <command>\`), which uses the Node 24 pinned in package.json, or install Node.js 24.\n`,
  );
  process.exit(2);
}
// `bizra config show | head` closes the pipe early; that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../cli/main.ts');
await main(process.argv);
// A failed command may leave handles (sockets, timers) open; its exit code is final.
if (process.exitCode) process.exit();
