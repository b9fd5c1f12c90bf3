import { Counter, Gauge, Histogram, type ServiceMetrics } from '@datalab/platform';

export interface InferenceMetrics {
  requestDuration: Histogram<'kind'>;
  runDuration: Histogram<'provider'>;
  batchRows: Histogram;
  rejected: Counter<'reason'>;
  cacheLookups: Counter<'result'>;
  cacheEvictions: Counter;
  loadDuration: Histogram<'kind'>;
}

/** Inference metrics on the service's registry; `queuedRows` is read when Prometheus scrapes. */
export function createInferenceMetrics(metrics: ServiceMetrics, queuedRows: () => number): InferenceMetrics {
  const registers = [metrics.registry];
  new Gauge({
    name: 'ai_inference_queue_rows',
    help: 'Rows waiting for an inference run, over all loaded models.',
    registers,
    collect() {
      this.set(queuedRows());
    },
  });
  return {
    requestDuration: new Histogram({
      name: 'ai_inference_request_duration_seconds',
      help: 'Time from a predict request being accepted to its predictions (queue wait + run).',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    runDuration: new Histogram({
      name: 'ai_inference_run_duration_seconds',
      help: 'Time of one runtime call (one batch).',
      labelNames: ['provider'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    batchRows: new Histogram({
      name: 'ai_inference_batch_rows',
      help: 'Rows per runtime call: above 1 when concurrent requests shared a run.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    rejected: new Counter({
      name: 'ai_inference_rejected_total',
      help: 'Predict requests refused before running, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    cacheLookups: new Counter({
      name: 'ai_model_cache_lookups_total',
      help: 'Model cache lookups: hit (already loaded) or miss (loaded now).',
      labelNames: ['result'] as const,
      registers,
    }),
    cacheEvictions: new Counter({
      name: 'ai_model_cache_evictions_total',
      help: 'Models unloaded to stay within AI_MODEL_CACHE_BYTES.',
      registers,
    }),
    loadDuration: new Histogram({
      name: 'ai_model_load_duration_seconds',
      help: 'Time to read an artifact and load it into a runtime.',
      labelNames: ['kind'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
