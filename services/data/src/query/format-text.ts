import { textOf, type ResultColumn, type ResultValue } from './result-values.ts';

/** Rows as they come from the cursor, batch by batch. */
export interface ResultSource {
  columns: ResultColumn[];
  batches: AsyncIterable<ResultValue[][]>;
  /** Rows past the row cap existed: known before the first row, so formats with metadata carry it. */
  truncated: boolean;
}

/** The key under which Arrow schema metadata and Parquet key-value metadata say whether rows were cut. */
export const TRUNCATED_KEY = 'datalab.truncated';

/**
 * `{ columns, rows, row_count, truncated }`, written as rows arrive: the
 * count and the truncated flag are known only at the end, so they come last.
 */
export async function* encodeJson(source: ResultSource): AsyncGenerator<Buffer> {
  yield Buffer.from(`{"columns":${JSON.stringify(source.columns)},"rows":[`);
  let count = 0;
  for await (const batch of source.batches) {
    if (batch.length === 0) continue;
    yield Buffer.from(`${count > 0 ? ',' : ''}${batch.map((row) => JSON.stringify(row)).join(',')}`);
    count += batch.length;
  }
  yield Buffer.from(`],"row_count":${count},"truncated":${source.truncated}}`);
}

/** RFC 4180: quoted when needed, doubled quotes, CRLF. NULL is an empty field, an empty string is `""`. */
function csvField(text: string | null): string {
  if (text === null) return '';
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function* encodeCsv(source: ResultSource): AsyncGenerator<Buffer> {
  const { columns } = source;
  yield Buffer.from(`${columns.map((column) => csvField(column.name)).join(',')}\r\n`);
  for await (const batch of source.batches) {
    const lines = batch.map(
      (row) => `${row.map((value, i) => csvField(textOf(value, columns[i]?.type ?? 'text'))).join(',')}\r\n`,
    );
    yield Buffer.from(lines.join(''));
  }
}
