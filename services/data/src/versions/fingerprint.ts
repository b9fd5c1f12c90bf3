import { qualifiedTable, quoteIdent, type ColumnType, type Dataset } from '../datasets/datasets.types.ts';

/**
 * A dataset's content summed up column by column, computed the same way by
 * PostgreSQL over its old table and by DuckDB over its Parquet version: the
 * row count, each column's non-null count, and a sum that changes when any
 * value does (integers and days and microseconds summed exactly, text and
 * JSON by the first 60 bits of each value's MD5, booleans counted). Floats
 * are compared by their extremes and a sum of bounded terms, within rounding.
 */

type Engine = 'postgres' | 'duckdb';

interface Part {
  sql: string;
  /** What it measures, for the message when the two engines disagree. */
  what: string;
  /** Floats' sums differ in the last bits with the order they were added in. */
  approximate?: boolean;
}

function parts(column: string, type: ColumnType, engine: Engine): Part[] {
  const pg = engine === 'postgres';
  const count = { sql: `count(${column})::text`, what: 'non-null count' };
  switch (type) {
    case 'integer':
      return [count, { sql: `sum(${column})::text`, what: 'sum' }];
    case 'float': {
      const finite = pg ? `${column} NOT IN ('NaN', 'Infinity', '-Infinity')` : `isfinite(${column})`;
      return [
        count,
        { sql: `count(*) FILTER (WHERE NOT (${finite}))::text`, what: 'NaN and infinity count' },
        { sql: `min(${column}) FILTER (WHERE ${finite})::text`, what: 'minimum', approximate: true },
        { sql: `max(${column}) FILTER (WHERE ${finite})::text`, what: 'maximum', approximate: true },
        // Bounded terms, so one huge value cannot hide a change in the others.
        {
          sql: `sum(${column} / (1 + abs(${column}))) FILTER (WHERE ${finite})::text`,
          what: 'sum of x / (1 + |x|)',
          approximate: true,
        },
      ];
    }
    case 'boolean':
      return [count, { sql: `count(*) FILTER (WHERE ${column})::text`, what: 'true count' }];
    case 'date':
      return [
        count,
        {
          sql: `sum(${column} - DATE '1970-01-01') FILTER (WHERE isfinite(${column}))::text`,
          what: 'sum of days',
        },
      ];
    case 'timestamp':
      return [
        count,
        {
          sql: pg
            ? `sum(floor(extract(epoch FROM ${column}) * 1000000)) FILTER (WHERE isfinite(${column}))::text`
            : `sum(epoch_us(${column})) FILTER (WHERE isfinite(${column}))::text`,
          what: 'sum of microseconds',
        },
      ];
    case 'text':
    case 'json': {
      const text = pg ? `${column}::text` : `${column}::VARCHAR`;
      return [
        count,
        { sql: pg ? `sum(octet_length(${text}))::text` : `sum(strlen(${text}))::text`, what: 'bytes' },
        {
          sql: pg
            ? `sum(('x' || substr(md5(${text}), 1, 15))::bit(60)::bigint)::text`
            : `sum(('0x' || md5(${text})[1:15])::BIGINT)::text`,
          what: 'sum of hashes',
        },
      ];
    }
  }
}

export interface Fingerprint {
  /** One SELECT answering one row of text values. */
  sql: string;
  /** Which of those values are float sums or extremes, compared within rounding. */
  approximate: boolean[];
  /** What each value measures (`column: measure`). */
  labels: string[];
}

/** The fingerprint query: over the dataset's table in PostgreSQL, or its view (by name) in DuckDB. */
export function fingerprintQuery(dataset: Dataset, engine: Engine): Fingerprint {
  const all: (Part & { column?: string })[] = [{ sql: 'count(*)::text', what: 'row count' }];
  for (const column of dataset.columns) {
    const measures = parts(quoteIdent(column.name), column.type, engine);
    all.push(...measures.map((part) => ({ ...part, column: column.name })));
  }
  const from = engine === 'postgres' ? qualifiedTable(dataset) : quoteIdent(dataset.name);
  return {
    sql: `SELECT ${all.map((part) => part.sql).join(', ')} FROM ${from}`,
    approximate: all.map((part) => part.approximate === true),
    labels: all.map((part) => (part.column ? `${part.column}: ${part.what}` : part.what)),
  };
}

const close = (a: string | null, b: string | null): boolean => {
  if (a === null || b === null) return a === b;
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
};

/** The first measure the two fingerprints differ in (`column: measure: a ≠ b`), or undefined when they agree. */
export function fingerprintDifference(
  fingerprint: Fingerprint,
  postgres: readonly (string | null)[],
  duckdb: readonly (string | null)[],
): string | undefined {
  for (let index = 0; index < fingerprint.approximate.length; index++) {
    const a = postgres[index] ?? null;
    const b = duckdb[index] ?? null;
    const same = fingerprint.approximate[index] ? close(a, b) : a === b;
    if (!same) return `${fingerprint.labels[index]}: ${a} in PostgreSQL, ${b} in Parquet`;
  }
  return undefined;
}
