import { parse, type CsvError, type Parser } from 'csv-parse';
import { detectDelimiter, extensionOf, firstLineFields, type Detected } from './detect.ts';
import { IngestError, lineError, tooManyColumns } from './errors.ts';
import { maxRecordChars } from './text.ts';
import type { IngestOptions, Source, SourceRow } from './types.ts';

interface CsvRecord {
  line: number;
  values: string[];
}

function newlinesIn(values: readonly string[]): number {
  let count = 0;
  for (const value of values) {
    for (let i = value.indexOf('\n'); i !== -1; i = value.indexOf('\n', i + 1)) count++;
  }
  return count;
}

function csvProblem(error: CsvError, line: number, limit: number): IngestError {
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return lineError('invalid', line, 'a quoted field starts on this line and is never closed');
  }
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    return lineError(
      'invalid',
      line,
      `the row starting on this line is longer than ${limit} characters: is a quote left open?`,
    );
  }
  if (
    error.code === 'CSV_INVALID_CLOSING_QUOTE' ||
    error.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE'
  ) {
    // Here csv-parse's own line count is where the stray character is.
    return lineError(
      'invalid',
      typeof error.lines === 'number' ? error.lines : line,
      'a closing quote is followed by other characters; a quote inside a quoted field is written twice ("")',
    );
  }
  return lineError('invalid', line, `the row starting on this line cannot be read: ${error.message}`);
}

/**
 * Records as csv-parse reads them, in batches, each with the line it starts on. The parser is fed
 * and drained synchronously, so every record before a syntax error has been counted when it
 * comes: that is how the error names the line where the broken record starts.
 */
async function* records(
  text: AsyncIterable<Buffer>,
  parser: Parser,
  limit: number,
): AsyncGenerator<CsvRecord[]> {
  let line = 1;
  const drain = (): CsvRecord[] => {
    const batch: CsvRecord[] = [];
    for (
      let values = parser.read() as string[] | null;
      values !== null;
      values = parser.read() as string[] | null
    ) {
      const start = line;
      line += 1 + newlinesIn(values);
      // A blank line: csv-parse gives one empty field.
      if (values.length === 1 && values[0] === '') continue;
      batch.push({ line: start, values });
    }
    if (parser.errored) throw csvProblem(parser.errored as CsvError, line, limit);
    return batch;
  };
  for await (const chunk of text) {
    parser.write(chunk);
    const batch = drain();
    if (batch.length > 0) yield batch;
  }
  parser.end();
  const batch = drain();
  if (batch.length > 0) yield batch;
}

function openParser(delimiter: string, quote: string, limit: number): Parser {
  try {
    const parser = parse({
      delimiter,
      quote,
      escape: quote,
      // Ragged rows are reported by us, per row, so that on_error=skip can leave them out.
      relax_column_count: true,
      // A quote inside an unquoted field (5" screen) is a character, not an error.
      relax_quotes: true,
      max_record_size: limit,
    });
    // Errors are read from `parser.errored` right after each write; this only keeps them from being uncaught.
    parser.on('error', () => undefined);
    return parser;
  } catch (error) {
    throw new IngestError('invalid', `The CSV options are invalid: ${(error as Error).message}`);
  }
}

/** A CSV or TSV file: `text` is its content as UTF-8. */
export async function openCsv(
  text: AsyncIterable<Buffer>,
  detected: Detected,
  options: IngestOptions,
): Promise<Source> {
  const { limits } = options;
  const quote = options.quote ?? '"';
  const extension = extensionOf(options.filename);
  const delimiter =
    options.delimiter ??
    (extension === 'tsv' || extension === 'tab' ? '\t' : detectDelimiter(detected.headText, quote));
  // A header of 20,000 columns is refused from the head of the file, before the parser reads the line.
  const headFields = firstLineFields(detected.headText, delimiter, quote);
  if (headFields > limits.maxColumns) throw tooManyColumns(headFields, limits, 1);

  const limit = maxRecordChars(limits);
  const parsed = records(text, openParser(delimiter, quote, limit), limit);
  const start = await parsed.next();
  const pending = start.done ? [] : start.value;
  const first = pending.shift();
  if (!first)
    throw new IngestError('invalid', 'The file is empty: it has no rows', [
      { line: 1, message: 'the file is empty' },
    ]);
  if (first.values.length > limits.maxColumns) throw tooManyColumns(first.values.length, limits, first.line);

  const width = first.values.length;
  const header = options.header ?? looksLikeHeader(first.values);
  const names = header
    ? first.values.map((name) => name.trim())
    : first.values.map((_, i) => `column_${i + 1}`);
  if (!header) pending.unshift(first);

  const toRow = ({ line, values }: CsvRecord): SourceRow =>
    values.length === width
      ? { line, values }
      : {
          line,
          values,
          reject: { line, message: `the row has ${values.length} fields; the header has ${width}` },
        };

  async function* batches(): AsyncGenerator<SourceRow[]> {
    if (pending.length > 0) yield pending.map(toRow);
    for await (const batch of parsed) yield batch.map(toRow);
  }

  return {
    format: 'csv',
    names,
    textual: true,
    delimiter,
    header,
    batches: batches(),
    close: async () => {
      await parsed.return(undefined);
    },
  };
}

// Anything that reads as a number, codes with leading zeros and thousands separators included.
const NUMERIC = /^[+-]?[\d.,]*\d[\d.,]*(?:[eE][+-]?\d+)?$/;

/** A first row of distinct, non-empty, non-numeric values names the columns. */
function looksLikeHeader(values: readonly string[]): boolean {
  const cells = values.map((value) => value.trim());
  return cells.every((cell) => cell !== '' && !NUMERIC.test(cell)) && new Set(cells).size === cells.length;
}
