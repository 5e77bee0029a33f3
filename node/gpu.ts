/**
 * GPU discovery through `nvidia-smi`. Many sovereign nodes are home GPU boxes;
 * /v1/node reports the model and memory when the driver answers, and nothing
 * (not an error) when there is no NVIDIA GPU.
 */
import { execFile } from 'node:child_process';

export interface GpuInfo {
  name: string;
  memoryMiB: number;
}

const QUERY = ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'];

/** Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split('\n')) {
    const cut = line.lastIndexOf(',');
    if (cut <= 0) continue;
    const name = line.slice(0, cut).trim();
    const memoryMiB = Number(line.slice(cut + 1).trim());
    if (name !== '' && Number.isFinite(memoryMiB) && memoryMiB > 0) gpus.push({ name, memoryMiB });
  }
  return gpus;
}

/** Runs nvidia-smi once (2 s at most). No binary, no driver or a timeout all mean "no GPU". */
export function probeGpus(command = 'nvidia-smi', timeoutMs = 2000): Promise<GpuInfo[]> {
  return new Promise((resolve) => {
    execFile(command, QUERY, { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      resolve(err ? [] : parseNvidiaSmi(String(stdout)));
    });
  });
}
