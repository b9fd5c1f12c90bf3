import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'matplotlib_scatter.py');

export interface Timings {
  timesMs: number[];
  pngBytes: number;
  version: string;
}

/** Debian's python3-matplotlib, through /usr/bin/python3, rendering the same chart `renders` times. */
export async function matplotlib(renders: number, warmup: number): Promise<Timings> {
  const { stdout } = await promisify(execFile)(
    '/usr/bin/python3',
    [SCRIPT, String(renders), String(warmup)],
    {
      maxBuffer: 1 << 20,
    },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    times_ms: number[];
    png_bytes: number;
    matplotlib: string;
  };
  return { timesMs: result.times_ms, pngBytes: result.png_bytes, version: result.matplotlib };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
