import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { TRUNCATED_KEY, type ResultSource } from './format-text.ts';
import { bigIntValue, epochDays, epochMicros, floatOf, textOf, type ResultValue } from './result-values.ts';

/**
 * Arrow IPC stream format, one record batch per cursor batch. The format is a
 * schema message, then batch messages, then an end-of-stream marker, so each
 * batch is encoded on its own and sent without the schema it repeats: the
 * answer streams without holding earlier batches. The schema's metadata says whether rows were
 * cut at the row cap (`datalab.truncated`: `true` or `false`).
 */

const END_OF_STREAM = new Uint8Array(new Int32Array([-1, 0]).buffer);

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'integer':
      return new Int64();
    case 'float':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'text':
    case 'json':
      return new Utf8();
  }
}

/** 64-bit columns are built from BigInt64Array directly: Arrow's builder would round timestamps to milliseconds. */
function bigIntData(type: DataType, values: (bigint | null)[]): Data {
  const data = new BigInt64Array(values.length);
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((value, i) => {
    if (value === null) nullCount += 1;
    else {
      data[i] = value;
      valid[i >> 3]! |= 1 << (i & 7);
    }
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap: valid, data } as never);
}

function columnData(type: ColumnType, arrow: DataType, values: ResultValue[]): Data {
  switch (type) {
    case 'integer':
      return bigIntData(arrow, values.map(bigIntValue));
    case 'timestamp':
      return bigIntData(arrow, values.map(epochMicros));
    case 'float':
      return vectorFromArray(values.map(floatOf), arrow).data[0]!;
    case 'boolean':
      return vectorFromArray(
        values.map((value) => (typeof value === 'boolean' ? value : null)),
        arrow,
      ).data[0]!;
    case 'date':
      return vectorFromArray(
        values.map((value) => {
          const days = epochDays(value);
          return days === null ? null : days * 86_400_000;
        }),
        arrow,
      ).data[0]!;
    case 'text':
    case 'json':
      return vectorFromArray(
        values.map((value) => textOf(value, type)),
        arrow,
      ).data[0]!;
  }
}

export async function* encodeArrow(source: ResultSource): AsyncGenerator<Uint8Array> {
  const types = source.columns.map((column) => column.type);
  const schema = new Schema(
    source.columns.map((column, i) => new Field(column.name, arrowType(types[i]!), true)),
    new Map([[TRUNCATED_KEY, String(source.truncated)]]),
  );
  const schemaMessage = RecordBatchStreamWriter.writeAll(new Table(schema)).toUint8Array(true);
  const schemaLength = schemaMessage.byteLength - END_OF_STREAM.byteLength;
  yield schemaMessage.subarray(0, schemaLength);
  for await (const rows of source.batches) {
    const children = schema.fields.map((field, i) =>
      columnData(
        types[i]!,
        field.type as DataType,
        rows.map((row) => row[i] ?? null),
      ),
    );
    const struct = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
    const writer = new RecordBatchStreamWriter();
    writer.write(new RecordBatch(schema, struct));
    yield writer.toUint8Array(true).subarray(schemaLength);
  }
  yield END_OF_STREAM;
}
