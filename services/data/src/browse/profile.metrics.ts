import { Histogram, type ServiceMetrics } from '@datalab/platform';

export interface ProfileMetrics {
  /** Starts timing one profile computation; call the result when it is stored. */
  startProfile: () => () => void;
}

export function createProfileMetrics(metrics: ServiceMetrics): ProfileMetrics {
  const duration = new Histogram({
    name: 'data_profile_duration_seconds',
    help: 'Time to compute one dataset profile (its count is how many were computed; stored ones are reused).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [metrics.registry],
  });
  return { startProfile: () => duration.startTimer() };
}
