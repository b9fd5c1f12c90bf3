import type { Visibility } from '@datalab/platform';

/** The column types DataLab infers, stores and reports. */
export type ColumnType = 'integer' | 'float' | 'boolean' | 'date' | 'timestamp' | 'text' | 'json';
export const COLUMN_TYPES: readonly ColumnType[] = [
  'integer',
  'float',
  'boolean',
  'date',
  'timestamp',
  'text',
  'json',
];

/** How each type is stored in PostgreSQL. */
export const SQL_TYPE: Readonly<Record<ColumnType, string>> = {
  integer: 'bigint',
  float: 'double precision',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
  text: 'text',
  json: 'jsonb',
};

export interface DatasetColumn {
  /** Safe, unique SQL identifier (lowercase, [a-z_][a-z0-9_]*). */
  name: string;
  /** As it appeared in the file, for display. */
  original_name: string;
  type: ColumnType;
}

/** Every dataset table has this first column: insertion order, and the key for stable paging. */
export const ROW_ID_COLUMN = '_row_id';

export interface Dataset {
  id: string;
  name: string;
  description: string;
  ownerId: string;
  visibility: Visibility;
  /** Table in schema `datasets`. */
  tableName: string;
  columns: DatasetColumn[];
  /** Storage keys of the current version's Parquet files, in row order. */
  files: string[];
  rowCount: number;
  bytes: number;
  version: number;
  sourceFormat: string;
  createdAt: Date;
  updatedAt: Date;
}

/** `datasets."<table>"`, quoted: table names are generated (t_<hex>), never user text. */
export function qualifiedTable(dataset: Pick<Dataset, 'tableName'>): string {
  return `datasets."${dataset.tableName}"`;
}

/** A column name as a quoted identifier; names are validated safe, quoting is defence in depth. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
