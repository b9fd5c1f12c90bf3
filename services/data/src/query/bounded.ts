import type { Pool } from '@datalab/platform';
import { scan } from 'libpg-query';
import {
  openReader,
  RAW_TEXT,
  shiftPosition,
  type ReaderOptions,
  type RowCursor,
  type Statement,
} from './executor.ts';
import { columnTypeOf, valueParser, type ResultValue } from './result-values.ts';

/**
 * An answer bounded by the row cap runs as one plain statement, `LIMIT cap + 1` around the
 * caller's query, in the same reader transaction a cursor gets (read-only, reader role,
 * statement_timeout). PostgreSQL never gives a cursor's query parallel workers; a plain
 * statement gets them, so a group-by over a large table takes the plan psql would get.
 * The whole answer is in memory at once, so the session's row budget (QUERY_MAX_ANSWER_BYTES,
 * counted before each row is read) bounds it. Unbounded reads (exports, jobs) keep the cursor.
 */

const PREFIX = 'SELECT * FROM (\n';

const TRAILING = new Set(['ASCII_59', 'SQL_COMMENT', 'C_COMMENT']);

/** Trailing semicolons (and comments after the statement) cannot go inside brackets. */
async function statementBody(text: string): Promise<string> {
  const { tokens } = await scan(text);
  let end = tokens.length;
  while (end > 0 && TRAILING.has(tokens[end - 1]!.tokenName)) end--;
  const last = tokens[end - 1];
  // Token offsets are in bytes.
  return last ? Buffer.from(text, 'utf8').subarray(0, last.end).toString('utf8') : text;
}

export async function runBounded(
  pool: Pool,
  statement: Statement,
  options: ReaderOptions & {
    /** Rows beyond this are not answered, and `truncated` says so. */
    maxRows: number;
    /** Rows per batch handed to the encoder. */
    batchSize: number;
  },
): Promise<RowCursor> {
  const text = `${PREFIX}${await statementBody(statement.text)}\n) AS datalab_answer LIMIT ${options.maxRows + 1}`;
  const session = await openReader(pool, options);
  let result;
  try {
    result = await session.client.query<string[]>({
      text,
      values: [...statement.values],
      rowMode: 'array',
      types: RAW_TEXT,
    });
  } catch (error) {
    throw shiftPosition(error, PREFIX);
  } finally {
    await session.close();
  }
  const parsers = result.fields.map((field) => valueParser(field.dataTypeID));
  const truncated = result.rows.length > options.maxRows;
  const rows = truncated ? result.rows.slice(0, options.maxRows) : result.rows;
  const batchSize = Math.max(1, options.batchSize);
  return {
    columns: result.fields.map((field) => ({ name: field.name, type: columnTypeOf(field.dataTypeID) })),
    consistent: session.consistent,
    truncated,
    close: session.close,
    batches: async function* () {
      // Parsed a batch at a time, so a large answer is encoded while the rest is still text.
      for (let start = 0; start < rows.length; start += batchSize) {
        yield rows
          .slice(start, start + batchSize)
          .map((row): ResultValue[] =>
            row.map((value, index) => (value === null ? null : parsers[index]!(value))),
          );
      }
    },
  };
}
