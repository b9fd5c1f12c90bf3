import { perRequest, snapshot } from './cpu.ts';
import { wrk, type LoadOptions, type LoadResult } from './wrk.ts';

export interface Measured extends LoadResult {
  /** Requests completed during the warm-up, which is not measured. */
  warmupRequests: number;
  /** CPU microseconds per request during the measured run, per process group (see cpu.ts). */
  cpuUsPerRequest: Record<string, number>;
}

/**
 * A warm-up, then the measured wrk run, with the CPU each process spent on it.
 * `pids` names the processes to account for by themselves (e.g. { gateway: 1234 }).
 */
export async function measure(
  url: string,
  load: LoadOptions & { warmupS: number },
  pids: Record<string, number | undefined>,
): Promise<Measured> {
  const warmup = await wrk(url, { ...load, durationS: load.warmupS });
  const before = await snapshot(pids);
  const result = await wrk(url, load);
  const after = await snapshot(pids);
  const errors = warmup.errors + result.errors;
  if (errors > 0) throw new Error(`${url}: ${errors} calls failed or were not 2xx/3xx`);
  return {
    ...result,
    warmupRequests: warmup.requests,
    cpuUsPerRequest: perRequest(before, after, result.requests),
  };
}
