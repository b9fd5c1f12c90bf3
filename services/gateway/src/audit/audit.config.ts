import { f } from '@datalab/platform';

/** The audit log's settings; the gateway's config schema spreads these in. */
export const auditConfigSchema = {
  auditRetentionDays: f.integer(
    'AUDIT_RETENTION_DAYS',
    'Audit rows older than this many days are deleted (hourly); 0 keeps them forever.',
    90,
    0,
    36500,
  ),
  auditFlushIntervalMs: f.integer(
    'AUDIT_FLUSH_INTERVAL_MS',
    'How often buffered API-call audit rows are written to PostgreSQL.',
    1000,
    10,
    60000,
  ),
  auditMaxBatch: f.integer(
    'AUDIT_MAX_BATCH',
    'Most audit rows written in one statement; a full batch is written without waiting for the interval.',
    500,
    1,
    10000,
  ),
  auditMaxBuffer: f.integer(
    'AUDIT_MAX_BUFFER',
    'Most audit rows held in memory while PostgreSQL is unreachable; further rows are dropped and counted.',
    50000,
    1,
  ),
};
