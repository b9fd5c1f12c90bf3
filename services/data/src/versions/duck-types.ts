import type { ColumnType } from '../datasets/datasets.types.ts';

/** How each DataLab column type is stored in a version's Parquet files, as DuckDB names it. */
export const DUCK_TYPE: Readonly<Record<ColumnType, string>> = {
  integer: 'BIGINT',
  float: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ',
  text: 'VARCHAR',
  json: 'JSON',
};
