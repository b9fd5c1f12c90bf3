import { sqlString } from './duck-instance.ts';

/**
 * DuckDB's readers with options the service chose. Every option is written
 * out (no `read_csv_auto` guessing behind the caller's back) and every value
 * goes through a SQL literal, so nothing in an option can become SQL.
 */

/** Column name → DuckDB type, in file order. */
export type ColumnTypes = Readonly<Record<string, string>>;

export type ReaderSpec =
  | {
      format: 'csv';
      /** One character (or `\t`). */
      delimiter: string;
      header: boolean;
      quote?: string;
      escape?: string;
      /** Given: read with these names and types, no detection. Absent: DuckDB's sniffer decides. */
      columns?: ColumnTypes;
      /** Strings read as NULL. */
      nullStrings?: readonly string[];
      /** Whether a quoted empty field (`""`) is NULL too; false keeps it an empty string. */
      quotedNulls?: boolean;
      /** Lines skipped before the header. */
      skipRows?: number;
      /** Rows DuckDB reads to detect types when `columns` is absent. */
      sampleSize?: number;
      /** Lines that do not parse are left out instead of failing the read. */
      ignoreErrors?: boolean;
    }
  | {
      /** `json`: one array of objects (or one object per line); `ndjson`: one object per line. */
      format: 'json' | 'ndjson';
      columns?: ColumnTypes;
      sampleSize?: number;
      ignoreErrors?: boolean;
    }
  | { format: 'parquet' };

const bool = (value: boolean): string => (value ? 'true' : 'false');

function columnsOption(columns: ColumnTypes): string {
  const entries = Object.entries(columns).map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`);
  return `columns = {${entries.join(', ')}}`;
}

/** `read_…(…)` for the file, as a FROM item. */
export function readerCall(file: string, spec: ReaderSpec): string {
  const options: string[] = [];
  switch (spec.format) {
    case 'parquet':
      return `read_parquet(${sqlString(file)})`;
    case 'csv':
      options.push(`delim = ${sqlString(spec.delimiter)}`, `header = ${bool(spec.header)}`);
      if (spec.quote !== undefined) options.push(`quote = ${sqlString(spec.quote)}`);
      if (spec.escape !== undefined) options.push(`escape = ${sqlString(spec.escape)}`);
      if (spec.nullStrings) options.push(`nullstr = [${spec.nullStrings.map(sqlString).join(', ')}]`);
      if (spec.quotedNulls !== undefined) options.push(`allow_quoted_nulls = ${bool(spec.quotedNulls)}`);
      if (spec.skipRows !== undefined) options.push(`skip = ${Math.max(0, Math.floor(spec.skipRows))}`);
      if (spec.columns) options.push('auto_detect = false', columnsOption(spec.columns));
      else if (spec.sampleSize !== undefined) options.push(`sample_size = ${Math.floor(spec.sampleSize)}`);
      if (spec.ignoreErrors) options.push('ignore_errors = true');
      return `read_csv(${[sqlString(file), ...options].join(', ')})`;
    case 'json':
    case 'ndjson':
      options.push(`format = ${sqlString(spec.format === 'ndjson' ? 'newline_delimited' : 'auto')}`);
      if (spec.columns) options.push('auto_detect = false', columnsOption(spec.columns));
      else if (spec.sampleSize !== undefined) options.push(`sample_size = ${Math.floor(spec.sampleSize)}`);
      if (spec.ignoreErrors) options.push('ignore_errors = true');
      return `read_json(${[sqlString(file), ...options].join(', ')})`;
  }
}
