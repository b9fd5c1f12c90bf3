import duckdb from '@duckdb/node-bindings';
import {
  DuckDBArrayType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBTypeId,
  DuckDBUnionType,
  type DuckDBDataChunk,
  type DuckDBType,
} from '@duckdb/node-api';

/**
 * How many bytes the first rows of a result chunk hold, read from DuckDB's
 * own vectors before any value is turned into a JavaScript value: a string's
 * length is the first four bytes of its 16-byte slot, a list's extent its
 * offset and length. So a 600 MB string is refused while it is still a
 * length in DuckDB's memory, never a V8 string. Fixed-width values count
 * 8 bytes, about what their JSON text takes.
 */

const FIXED_BYTES = 8;
const STRING_SLOT = 16;
const LIST_ENTRY = 16;

/** Types whose values are `duckdb_string_t` slots. */
const STRING_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.BLOB,
  DuckDBTypeId.BIT,
  DuckDBTypeId.BIGNUM,
  DuckDBTypeId.GEOMETRY,
]);

/** Rows `from`..`to` (exclusive) of one vector. */
function vectorBytes(vector: duckdb.Vector, type: DuckDBType, from: number, to: number): number {
  if (to <= from) return 0;
  const validity = duckdb.vector_get_validity(vector, Math.ceil(to / 64) * 8);
  const valid = (row: number): boolean => duckdb.validity_row_is_valid(validity, row);
  if (STRING_TYPES.has(type.typeId)) {
    const data = duckdb.vector_get_data(vector, to * STRING_SLOT);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let bytes = 0;
    for (let row = from; row < to; row++)
      if (valid(row)) bytes += view.getUint32(row * STRING_SLOT, true) + 2;
    return bytes;
  }
  if (type instanceof DuckDBListType || type instanceof DuckDBMapType) {
    const data = duckdb.vector_get_data(vector, to * LIST_ENTRY);
    const entries = new BigUint64Array(data.buffer, data.byteOffset, to * 2);
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (let row = from; row < to; row++) {
      if (!valid(row)) continue;
      const offset = Number(entries[row * 2]);
      start = Math.min(start, offset);
      end = Math.max(end, offset + Number(entries[row * 2 + 1]));
    }
    const child = duckdb.list_vector_get_child(vector);
    const childType =
      type instanceof DuckDBListType
        ? type.valueType
        : new DuckDBStructType(['key', 'value'], [type.keyType, type.valueType]);
    return (to - from) * 2 + (end > start ? vectorBytes(child, childType, start, end) : 0);
  }
  if (type instanceof DuckDBArrayType) {
    const child = duckdb.array_vector_get_child(vector);
    return (to - from) * 2 + vectorBytes(child, type.valueType, from * type.length, to * type.length);
  }
  if (type instanceof DuckDBStructType || type instanceof DuckDBUnionType) {
    // A union is stored as a struct whose first member is its tag.
    const members = type instanceof DuckDBStructType ? type.entryTypes : type.memberTypes;
    const offset = type instanceof DuckDBUnionType ? 1 : 0;
    let bytes = (to - from) * 2;
    members.forEach((member, index) => {
      bytes += vectorBytes(duckdb.struct_vector_get_child(vector, index + offset), member, from, to);
    });
    return bytes;
  }
  return (to - from) * FIXED_BYTES;
}

/** Bytes the first `rows` rows of the chunk hold; `types` are the result's column types. */
export function chunkBytes(chunk: DuckDBDataChunk, types: readonly DuckDBType[], rows: number): number {
  let bytes = 0;
  types.forEach((type, column) => {
    bytes += vectorBytes(duckdb.data_chunk_get_vector(chunk.chunk, column), type, 0, rows);
  });
  return bytes;
}
