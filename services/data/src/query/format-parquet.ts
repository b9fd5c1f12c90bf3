import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { TRUNCATED_KEY, type ResultSource } from './format-text.ts';
import { bigIntValue, epochDays, epochMicros, floatOf, textOf, type ResultValue } from './result-values.ts';

/**
 * Parquet, one row group per ROW_GROUP_ROWS rows. Each row group is sent as
 * soon as it is encoded; the footer (schema and row-group index) comes last, with key-value
 * metadata saying whether rows were cut at the row cap (`datalab.truncated`).
 */

const ROW_GROUP_ROWS = 50_000;

function schemaElement(name: string, type: ColumnType): SchemaElement {
  const base = { name, repetition_type: 'OPTIONAL' } as const;
  switch (type) {
    case 'integer':
      return { ...base, type: 'INT64' };
    case 'float':
      return { ...base, type: 'DOUBLE' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'date':
      return { ...base, type: 'INT32', converted_type: 'DATE' };
    case 'timestamp':
      return { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MICROS' };
    case 'text':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8' };
    case 'json':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'JSON' };
  }
}

function parquetValues(type: ColumnType, values: ResultValue[]): unknown[] {
  switch (type) {
    case 'integer':
      return values.map(bigIntValue);
    case 'float':
      return values.map(floatOf);
    case 'boolean':
      return values.map((value) => (typeof value === 'boolean' ? value : null));
    case 'date':
      return values.map(epochDays);
    case 'timestamp':
      return values.map(epochMicros);
    case 'text':
      return values.map((value) => textOf(value, type));
    case 'json':
      return values;
  }
}

/** Parquet columns are found by name, so repeated answer names (a.id, b.id) get a suffix. */
function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let n = 2; seen.has(unique); n += 1) unique = `${name}_${n}`;
    seen.add(unique);
    return unique;
  });
}

export async function* encodeParquet(source: ResultSource): AsyncGenerator<Uint8Array> {
  const names = uniqueNames(source.columns.map((column) => column.name));
  const types = source.columns.map((column) => column.type);
  const bytes = new ByteWriter();
  const schema = [
    { name: 'root', num_children: names.length },
    ...names.map((name, i) => schemaElement(name, types[i]!)),
  ];
  const writer = new ParquetWriter({
    writer: bytes,
    schema,
    kvMetadata: [{ key: TRUNCATED_KEY, value: String(source.truncated) }],
  });
  // Hands over what has been encoded so far and starts the buffer again; `offset` keeps counting the file.
  const take = (): Uint8Array => {
    const chunk = bytes.getBytes().slice();
    bytes.index = 0;
    return chunk;
  };
  let pending: ResultValue[][] = [];
  const flush = async (): Promise<void> => {
    const columnData: ColumnSource[] = names.map((name, i) => ({
      name,
      data: parquetValues(
        types[i]!,
        pending.map((row) => row[i] ?? null),
      ) as ColumnSource['data'],
    }));
    const rows = pending.length;
    pending = [];
    await writer.write({ columnData, rowGroupSize: rows });
  };
  for await (const batch of source.batches) {
    for (const row of batch) pending.push(row);
    if (pending.length >= ROW_GROUP_ROWS) {
      await flush();
      yield take();
    }
  }
  if (pending.length > 0) await flush();
  await writer.finish();
  yield take();
}
