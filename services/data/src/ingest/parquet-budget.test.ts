import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { IngestError } from './errors.ts';
import { budgetedCompressors } from './parquet-budget.ts';
import { load, refusal } from './testing.ts';

/** `rows` rows of an id and a 100-character text, in row groups of `groupRows`. */
function parquetOf(rows: number, groupRows: number): Buffer {
  const ids = Array.from({ length: rows }, (_, i) => i);
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids, type: 'INT32' },
        { name: 'text', data: ids.map((i) => String(i).padEnd(100, '.')), type: 'STRING' },
      ],
      rowGroupSize: groupRows,
    }),
  );
}

describe('Parquet row groups within DATA_MAX_ROW_GROUP_BYTES', () => {
  it('refuses a row group that declares more than the budget, naming it and its first row', async () => {
    const error = await refusal(parquetOf(4000, 2000), {
      filename: 'x.parquet',
      limits: { maxRowGroupBytes: 100_000 },
    });
    expect(error.kind).toBe('too_large');
    expect(error.message).toMatch(
      /row group 1 would take more than the 100000 bytes .*\(DATA_MAX_ROW_GROUP_BYTES\)/,
    );
    expect(error.errors).toEqual([expect.objectContaining({ line: 1 })]);
    expect(error.tableCreated).toBe(false);
  });

  it('loads the same rows written in row groups that each fit', async () => {
    const { result } = await load(parquetOf(4000, 200), {
      filename: 'x.parquet',
      limits: { maxRowGroupBytes: 100_000 },
    });
    expect(result.rowsWritten).toBe(4000);
  });

  it('charges each page to the budget before unpacking it: a page header may claim more than the metadata', () => {
    const budget = { left: 1000 };
    let unpacked = 0;
    const refuse = () => new IngestError('too_large', 'over budget');
    const charged = budgetedCompressors(
      {
        GZIP: (_input, length) => {
          unpacked += length;
          return new Uint8Array(length);
        },
      },
      budget,
      refuse,
    );
    expect(charged.GZIP!(new Uint8Array(1), 600).length).toBe(600);
    expect(() => charged.GZIP!(new Uint8Array(1), 2 ** 31)).toThrow('over budget');
    expect(() => charged.GZIP!(new Uint8Array(1), 401)).toThrow('over budget');
    expect(unpacked).toBe(600);
    expect(budget.left).toBe(400);
  });
});
