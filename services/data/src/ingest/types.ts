import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import type { ZipLimits } from './zip-bounds.ts';

export type SourceFormat = 'csv' | 'json' | 'ndjson' | 'parquet' | 'xlsx';
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin1';

export interface IngestLimits extends ZipLimits {
  /** More columns than this refuses the file as too large, as soon as the header is read. */
  maxColumns: number;
  /** Largest single value, in UTF-8 bytes. */
  maxCellBytes: number;
  /** How many bad rows are listed (a refused upload stops reading after this many). */
  maxErrorsReported: number;
  /** Rows read to infer column types before every row is checked against them. */
  sampleRows: number;
  /** Most bytes decoding one Parquet row group may take (DATA_MAX_ROW_GROUP_BYTES). */
  maxRowGroupBytes: number;
}

export interface IngestOptions {
  /** Default: from the file name's extension, else from the content. */
  format?: SourceFormat;
  filename?: string;
  /** CSV: default detected among `,` `;` tab `|`. */
  delimiter?: string;
  /** CSV: default `"`. */
  quote?: string;
  /** CSV: default detected (a first row of distinct, non-empty, non-numeric values is a header). */
  header?: boolean;
  /** Text formats: default detected (BOM, UTF-16 NUL pattern, valid UTF-8, else Latin-1). */
  encoding?: TextEncoding;
  /** xlsx: default the workbook's first sheet. */
  sheet?: string;
  /** Per-column types that win over inference, keyed by the file's name or the safe name. */
  columnTypes?: Record<string, ColumnType>;
  /** An append: the columns the file must have, in order, as the dataset's first file named them. */
  requiredColumns?: string[];
  /** `fail`: any bad row refuses the file. `skip`: bad rows are left out and reported. */
  onError: 'fail' | 'skip';
  limits: IngestLimits;
}

export interface RejectedRow {
  /** 1-based line (CSV, header counted; NDJSON), element (JSON array), row (Parquet) or sheet row (xlsx). */
  line: number;
  /** The column as named in the file. */
  column?: string;
  /** The offending value, at most 200 characters. */
  value?: string;
  expected?: ColumnType;
  message: string;
}

export interface IngestResult {
  format: SourceFormat;
  encoding?: string;
  columns: DatasetColumn[];
  rowsWritten: number;
  rowsRejected: number;
  /** The first `maxErrorsReported` rejected rows. */
  rejects: RejectedRow[];
  /** Every rejected row (up to a size cap) as CSV, for download. */
  rejectsCsv: string;
}

/** One record as a source read it: its values in column order, or why it cannot be a row (and what it held). */
export type SourceRow =
  { line: number; values: unknown[] } | { line: number; reject: RejectedRow; values?: unknown[] };

/** A file opened for reading: its column names, then its rows in batches. */
export interface Source {
  format: SourceFormat;
  /** Column names as the file writes them. */
  names: string[];
  /** Types the file declares (Parquet); other formats are inferred from a sample. */
  declared?: ColumnType[];
  /**
   * Whether a string may be read as a number, boolean or JSON (CSV and Excel, where everything
   * can be text) or only as the text it is (JSON, where a string was written as a string).
   */
  textual: boolean;
  batches: AsyncIterable<SourceRow[]>;
  /** CSV: the delimiter in use, and whether the first record named the columns. */
  delimiter?: string;
  header?: boolean;
  /** Releases what the source holds (temporary files); safe to call at any point. */
  close(): Promise<void>;
}

/** How rows reach COPY: PostgreSQL text format lines made by us, or the file's own CSV bytes. */
export type CopyFormat = { format: 'text' } | { format: 'csv'; delimiter: string; quote: string };
