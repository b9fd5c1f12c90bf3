/** The ingestion pipeline: a file's bytes in, typed and validated rows out as PostgreSQL COPY text. */
export { ingest } from './ingest.ts';
export { IngestError, type IngestErrorKind } from './errors.ts';
export type {
  CopyFormat,
  IngestLimits,
  IngestOptions,
  IngestResult,
  RejectedRow,
  SourceFormat,
  TextEncoding,
} from './types.ts';
