import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import ExcelJS, { type CellValue, type Row } from 'exceljs';
import { IngestError, tooManyColumns } from './errors.ts';
import { tempFileOf, type TempFile } from './temp-file.ts';
import { checkZip } from './zip-bounds.ts';
import type { IngestOptions, Source, SourceRow } from './types.ts';

/** A cell's value once exceljs's wrappers (formula, rich text, hyperlink) are taken off. */
type Plain = string | number | boolean | Date | null;

interface SheetRow {
  line: number;
  values: Plain[];
}

/** What a cell holds, as a plain value: formulas give their result, rich text its text, errors nothing. */
function cellValue(cell: CellValue): Plain {
  if (cell === null || cell === undefined) return null;
  if (typeof cell !== 'object' || cell instanceof Date) return cell;
  if ('richText' in cell) return cell.richText.map((run) => run.text).join('');
  if ('result' in cell) return cell.result === undefined ? null : cellValue(cell.result);
  if ('formula' in cell || 'sharedFormula' in cell || 'error' in cell) return null;
  if ('text' in cell) return cell.text;
  return null;
}

/** A row's cells from column 1 on (exceljs numbers them from 1 and leaves gaps for empty cells). */
function rowValues(row: Row): Plain[] {
  const cells = Array.isArray(row.values) ? row.values : [];
  return Array.from({ length: Math.max(cells.length - 1, 0) }, (_, i) => cellValue(cells[i + 1]));
}

/**
 * The non-empty rows of the chosen sheet (by name, else the workbook's first), with their sheet
 * row numbers. The rest of the workbook is still read through, so the whole upload is consumed.
 */
async function* sheetRows(
  workbook: ExcelJS.stream.xlsx.WorkbookReader,
  wanted: string | undefined,
): AsyncGenerator<SheetRow> {
  const seen: string[] = [];
  let found = false;
  try {
    for await (const worksheet of workbook) {
      // exceljs names the sheet from the workbook part, a property its types do not declare.
      const name = (worksheet as { name?: string }).name ?? '';
      seen.push(name);
      const chosen = wanted ?? workbook.model?.sheets?.[0]?.name;
      if (found || (chosen !== undefined && name !== chosen)) continue;
      found = true;
      for await (const row of worksheet) {
        const values = rowValues(row);
        if (values.some((value) => value !== null && value !== '')) yield { line: row.number, values };
      }
    }
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError(
      'unsupported',
      `This is not a readable .xlsx workbook: ${(error as Error).message}`,
    );
  }
  if (!found) {
    const message =
      wanted === undefined ? 'the workbook has no sheets' : `there is no sheet named "${wanted}"`;
    throw new IngestError('invalid', `No sheet to read: ${message} (sheets: ${seen.join(', ') || 'none'})`, [
      { line: 1, message },
    ]);
  }
}

/**
 * exceljs pipes its input into unzipper, and a pipe passes no errors on: after a failed upload
 * (or a failed COPY, which stops the reading) exceljs would wait forever for the rest of the zip.
 * So the upload is handed over through `endOnFailure`, which ends it quietly on failure and trips
 * this wire; every wait on exceljs goes through `wrap`, which then rejects at once. The error is
 * the reader's, which is what ingest reports.
 */
function tripwire() {
  let tripped: Error | undefined;
  let pending: ((error: Error) => void) | undefined;
  const trip = (error: unknown): void => {
    tripped ??= error instanceof Error ? error : new Error(String(error));
    pending?.(tripped);
  };
  return {
    wrap<T>(promise: Promise<T>): Promise<T> {
      if (tripped) return Promise.reject(tripped);
      return new Promise<T>((resolve, reject) => {
        pending = reject;
        void promise.then(resolve, reject).finally(() => {
          if (pending === reject) pending = undefined;
        });
      });
    },
    async *endOnFailure(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      try {
        yield* chunks;
      } catch (error) {
        trip(error);
      }
    },
  };
}

/**
 * An Excel .xlsx workbook: written to a temporary file, its zip checked against the limits
 * (zip-bounds.ts), then read as a stream. The first row of the sheet names the columns.
 */
export async function openXlsx(chunks: AsyncIterable<Buffer>, options: IngestOptions): Promise<Source> {
  const file = await tempFileOf(chunks, 'upload.xlsx');
  try {
    await checkZip(file, options.limits);
    return await readWorkbook(file, options);
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function readWorkbook(file: TempFile, options: IngestOptions): Promise<Source> {
  const wire = tripwire();
  const input = Readable.from(wire.endOnFailure(createReadStream(file.path)));
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    sharedStrings: 'cache',
    // Styles are what tell a date from a number.
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const rows = sheetRows(workbook, options.sheet);
  const header = await wire.wrap(rows.next());
  if (header.done)
    throw new IngestError('invalid', 'The sheet is empty', [{ line: 1, message: 'the sheet is empty' }]);
  const width = header.value.values.length;
  if (width > options.limits.maxColumns) throw tooManyColumns(width, options.limits, header.value.line);
  const names = header.value.values.map((value) =>
    value === null ? '' : value instanceof Date ? value.toISOString() : String(value).trim(),
  );

  async function* batches(): AsyncGenerator<SourceRow[]> {
    let batch: SourceRow[] = [];
    for (let next = await wire.wrap(rows.next()); !next.done; next = await wire.wrap(rows.next())) {
      const { line, values } = next.value;
      const beyond = values.findIndex((value, i) => i >= width && value !== null && value !== '');
      batch.push(
        beyond === -1
          ? { line, values }
          : {
              line,
              values,
              reject: {
                line,
                message: `the row has a value in column ${beyond + 1}, beyond the ${width} named in the header`,
              },
            },
      );
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  return {
    format: 'xlsx',
    names,
    textual: true,
    batches: batches(),
    // After a failure exceljs may never settle: closing must not wait for it then.
    close: async () => {
      try {
        await wire.wrap(rows.return(undefined));
      } finally {
        await file.close();
      }
    },
  };
}
