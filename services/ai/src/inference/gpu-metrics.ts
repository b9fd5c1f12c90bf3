import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Gauge, type Logger, type Registry } from '@datalab/platform';

const run = promisify(execFile);
const MIB = 1024 * 1024;
/** A stuck driver can hang nvidia-smi; a sample that takes this long is given up. */
const SAMPLE_TIMEOUT_MS = 5000;
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];

export interface GpuSample {
  gpu: string;
  /** 0–1; null when the GPU does not report it (`[N/A]`, `[Not Supported]`). */
  utilization: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
}

function number(field: string | undefined): number | null {
  const value = Number(field);
  return field !== undefined && /^\d+(\.\d+)?$/.test(field) && Number.isFinite(value) ? value : null;
}

/** Parses `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(text: string): GpuSample[] {
  return text
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length === 4 && /^\d+$/.test(fields[0]!))
    .map(([gpu, utilization, used, total]) => {
      const percent = number(utilization);
      const usedMib = number(used);
      const totalMib = number(total);
      return {
        gpu: gpu!,
        utilization: percent === null ? null : percent / 100,
        memoryUsedBytes: usedMib === null ? null : usedMib * MIB,
        memoryTotalBytes: totalMib === null ? null : totalMib * MIB,
      };
    });
}

export interface GpuMetricsOptions {
  registry: Registry;
  logger: Logger;
  /** The nvidia-smi binary (a name looked up in PATH, or a path). */
  command: string;
  intervalMs: number;
}

/** What one sample found: GPUs measured, no nvidia-smi at all, or nvidia-smi failing. */
export type SampleOutcome = 'sampled' | 'absent' | 'failed';

/**
 * GPU utilisation and memory per GPU, sampled from nvidia-smi every
 * `intervalMs`. Without the binary sampling stops and no `ai_gpu_*` series
 * exist; a value a GPU does not report has no series either (never a fake 0).
 */
export function createGpuMetrics(options: GpuMetricsOptions) {
  const registers = [options.registry];
  const labelNames = ['gpu'] as const;
  const gauges = {
    utilization: new Gauge({
      name: 'ai_gpu_utilization_ratio',
      help: 'Share of the last sample period in which a kernel ran on the GPU (nvidia-smi utilization.gpu).',
      labelNames,
      registers,
    }),
    memoryUsedBytes: new Gauge({
      name: 'ai_gpu_memory_used_bytes',
      help: 'GPU memory in use (nvidia-smi memory.used).',
      labelNames,
      registers,
    }),
    memoryTotalBytes: new Gauge({
      name: 'ai_gpu_memory_total_bytes',
      help: 'GPU memory in all (nvidia-smi memory.total).',
      labelNames,
      registers,
    }),
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;

  function record(samples: GpuSample[]): void {
    for (const gauge of Object.values(gauges)) gauge.reset();
    for (const sample of samples)
      for (const key of ['utilization', 'memoryUsedBytes', 'memoryTotalBytes'] as const) {
        const value = sample[key];
        if (value !== null) gauges[key].set({ gpu: sample.gpu }, value);
      }
  }

  async function sample(): Promise<SampleOutcome> {
    try {
      const { stdout } = await run(options.command, NVIDIA_SMI_ARGS, { timeout: SAMPLE_TIMEOUT_MS });
      record(parseNvidiaSmi(stdout));
      failing = false;
      return 'sampled';
    } catch (error) {
      record([]);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      // Logged once per run of failures, not every interval.
      if (!failing)
        options.logger.warn({ err: error }, 'nvidia-smi failed; GPU metrics are missing until it works');
      failing = true;
      return 'failed';
    }
  }

  return {
    sample,
    /** Samples now and then every interval, until nvidia-smi turns out to be missing or `stop`. */
    start: async (): Promise<void> => {
      if ((await sample()) === 'absent') {
        options.logger.info({ command: options.command }, 'nvidia-smi not found; no GPU metrics');
        return;
      }
      if (stopped) return;
      timer = setInterval(() => void sample(), options.intervalMs);
      timer.unref();
    },
    stop: (): void => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
