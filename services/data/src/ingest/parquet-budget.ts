import type { Compressors, RowGroup } from 'hyparquet';
import { IngestError } from './errors.ts';

/**
 * What a decoded value costs at least once hyparquet has it: a slot in a JS array. A row group that
 * declares two billion rows in a few bytes of run-length-encoded dictionary indices is refused by
 * this alone.
 */
const VALUE_SLOT_BYTES = 8;

/** A row group's place in the file, for the refusal: its number and its first row. */
export interface RowGroupPlace {
  index: number;
  firstRow: number;
}

export function rowGroupTooLarge(place: RowGroupPlace, maxBytes: number): IngestError {
  const message = `row group ${place.index + 1} would take more than the ${maxBytes} bytes allowed to decode (DATA_MAX_ROW_GROUP_BYTES)`;
  return new IngestError('too_large', `The Parquet file's ${message}; write it with smaller row groups`, [
    { line: place.firstRow, message },
  ]);
}

/** The memory a row group says it needs decoded: its pages unpacked, and a slot for each value. */
export function declaredRowGroupBytes(group: RowGroup): number {
  const pages = group.columns.reduce(
    (sum, column) => sum + Number(column.meta_data?.total_uncompressed_size ?? 0),
    0,
  );
  return pages + Number(group.num_rows) * group.columns.length * VALUE_SLOT_BYTES;
}

/**
 * `compressors`, each charging the page size it is asked to unpack to `budget` before it allocates
 * anything: a page header may declare more than the column's metadata did.
 */
export function budgetedCompressors(
  compressors: Compressors,
  budget: { left: number },
  refuse: () => IngestError,
): Compressors {
  const charged: Compressors = {};
  for (const [codec, decompress] of Object.entries(compressors) as [
    keyof Compressors,
    NonNullable<Compressors[keyof Compressors]>,
  ][]) {
    charged[codec] = (input, outputLength) => {
      if (outputLength > budget.left) throw refuse();
      budget.left -= outputLength;
      return decompress(input, outputLength);
    };
  }
  return charged;
}
