import { Counter, Histogram, type ServiceMetrics } from '@datalab/platform';

export interface IngestMetrics {
  rowsIngested: (format: string, rows: number) => void;
  /** Starts timing an ingest; call the result when it ends. */
  startIngest: () => () => void;
}

export function createIngestMetrics(metrics: ServiceMetrics): IngestMetrics {
  const rows = new Counter({
    name: 'data_rows_ingested_total',
    help: 'Rows written into datasets, by source format.',
    labelNames: ['format'] as const,
    registers: [metrics.registry],
  });
  const duration = new Histogram({
    name: 'data_ingest_duration_seconds',
    help: 'Time to ingest one upload (parse, check, COPY, commit).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [metrics.registry],
  });
  return {
    rowsIngested: (format, count) => rows.inc({ format }, count),
    startIngest: () => duration.startTimer(),
  };
}
