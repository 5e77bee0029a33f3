/** The reference compiler for tests that compare our bytes with protoc's: whether it is installed, and a runner. */
import { execFileSync } from 'node:child_process';
import { PROTO_PATH } from '../codec/schema.ts';

function hasProtoc(): boolean {
  try {
    execFileSync('protoc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Looked up once per test file. */
export const protocAvailable = hasProtoc();

export const PROTOC_MISSING =
  'protoc is not on PATH: install it (Debian: apt-get install -y protobuf-compiler) to check the schema and encoding against the reference compiler';

const protoDir = PROTO_PATH.slice(0, PROTO_PATH.lastIndexOf('/'));

/** Runs protoc on proto/bizra.proto with `args`, `input` on its stdin. */
export function protoc(args: string[], input: Uint8Array | string): Buffer {
  return execFileSync('protoc', [`--proto_path=${protoDir}`, ...args, PROTO_PATH], { input });
}
