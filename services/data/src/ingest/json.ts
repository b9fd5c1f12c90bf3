import { IngestError, lineError, tooManyColumns } from './errors.ts';
import { maxRecordChars } from './text.ts';
import type { IngestOptions, Source, SourceFormat, SourceRow } from './types.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** One JSON value read from the file, as text, or a line that was not one. */
type Item = { line: number; text: string } | { line: number; reject: string };

/**
 * The elements of a top-level JSON array, one at a time, as text for JSON.parse: it tracks only
 * nesting depth and whether it is inside a string, so a 1 GB array is never parsed (or held) whole.
 */
async function* arrayElements(text: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Item[]> {
  // Asserted, not annotated: assignments inside the loop would otherwise confuse narrowing after it.
  let state = 'start' as 'start' | 'first' | 'before' | 'value' | 'after' | 'end';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let size = 0;
  let index = 0;
  const problem = (message: string) => lineError('invalid', index + 1, message);

  for await (const chunk of text) {
    const items: Item[] = [];
    let start = 0;
    const complete = (end: number): void => {
      parts.push(chunk.subarray(start, end));
      items.push({ line: ++index, text: Buffer.concat(parts).toString() });
      parts = [];
      size = 0;
    };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (state === 'value') {
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) {
            inString = false;
            if (depth === 0) {
              complete(i + 1);
              state = 'after';
            }
          }
        } else if (byte === QUOTE) {
          inString = true;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          depth++;
        } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && depth > 0) {
          if (--depth === 0) {
            complete(i + 1);
            state = 'after';
          }
        } else if (depth === 0 && (byte === COMMA || byte === CLOSE_BRACKET || isSpace(byte))) {
          // A bare number or literal ends at what follows it, which the 'after' state reads.
          complete(i);
          state = 'after';
          i--;
        }
        continue;
      }
      if (isSpace(byte)) continue;
      if (state === 'start') {
        if (byte !== OPEN_BRACKET) {
          throw new IngestError(
            'invalid',
            'A JSON file must hold an array of objects, or one object per line (NDJSON)',
          );
        }
        state = 'first';
      } else if (state === 'first' && byte === CLOSE_BRACKET) {
        state = 'end';
      } else if (state === 'first' || state === 'before') {
        if (byte === COMMA || byte === CLOSE_BRACKET)
          throw problem('an element is missing before this comma or bracket');
        state = 'value';
        start = i;
        depth = 0;
        i--;
      } else if (state === 'after' && byte === COMMA) {
        state = 'before';
      } else if (state === 'after' && byte === CLOSE_BRACKET) {
        state = 'end';
      } else {
        throw problem(
          state === 'after'
            ? 'expected "," or "]" after the element before'
            : 'there is more after the end of the array',
        );
      }
    }
    if (state === 'value') {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > limit)
        throw problem(`this element is longer than ${limit} bytes: is a brace or quote left open?`);
    }
    if (items.length > 0) yield items;
  }
  if (state !== 'end') throw problem('the file ends before the JSON array is closed');
}

/** NDJSON: one value per line; blank lines are skipped. */
async function* ndjsonLines(text: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Item[]> {
  let parts: Buffer[] = [];
  let size = 0;
  let line = 0;
  const take = (items: Item[], last: Buffer): void => {
    line++;
    const content = parts.length === 0 ? last.toString() : Buffer.concat([...parts, last]).toString();
    parts = [];
    size = 0;
    if (/\S/.test(content)) items.push({ line, text: content });
  };
  for await (const chunk of text) {
    const items: Item[] = [];
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      take(items, chunk.subarray(start, end));
      start = end + 1;
    }
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > limit) throw lineError('invalid', line + 1, `this line is longer than ${limit} bytes`);
    }
    if (items.length > 0) yield items;
  }
  const items: Item[] = [];
  if (parts.length > 0) take(items, Buffer.alloc(0));
  if (items.length > 0) yield items;
}

type Parsed = { line: number; object: Record<string, unknown> } | { line: number; reject: string };

/**
 * Deepest nesting a value may have. JSON.parse copes with any depth, but what handles the value
 * next (JSON.stringify, a type check) recurses, and a value nested 100,000 deep overflows the stack.
 */
export const MAX_JSON_DEPTH = 512;

/** Whether the JSON text nests deeper than MAX_JSON_DEPTH, brackets inside strings not counted. */
function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--;
  }
  return false;
}

function parseItem(item: Item): Parsed {
  if ('reject' in item) return item;
  if (tooDeep(item.text))
    return { line: item.line, reject: `the value is nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(item.text);
  } catch (error) {
    return { line: item.line, reject: `not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return { line: item.line, object: value as Record<string, unknown> };
  }
  return {
    line: item.line,
    reject: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
  };
}

/**
 * A JSON array of objects or NDJSON. The columns are the keys of the first `sampleRows` objects,
 * in the order first seen; a key that first turns up later has no column, and its row is refused.
 */
export async function openJson(
  text: AsyncIterable<Buffer>,
  format: SourceFormat,
  options: IngestOptions,
): Promise<Source> {
  const { limits } = options;
  const limit = maxRecordChars(limits);
  const items = format === 'json' ? arrayElements(text, limit) : ndjsonLines(text, limit);
  const keys = new Map<string, number>();
  const buffered: Parsed[] = [];
  let sampled = 0;
  // Counted in lines read, good or not, so a file of nothing but bad lines is not held whole.
  while (buffered.length < limits.sampleRows) {
    const next = await items.next();
    if (next.done) break;
    for (const parsed of next.value.map(parseItem)) {
      buffered.push(parsed);
      if (!('object' in parsed) || sampled >= limits.sampleRows) continue;
      sampled++;
      for (const key in parsed.object) {
        if (keys.has(key)) continue;
        keys.set(key, keys.size);
        if (keys.size > limits.maxColumns) throw tooManyColumns(keys.size, limits, parsed.line);
      }
    }
  }
  if (keys.size === 0) {
    // Nothing but bad lines (a pretty-printed object read as NDJSON, say): the first one says why.
    const bad = buffered.find((parsed) => 'reject' in parsed);
    if (bad && 'reject' in bad) {
      throw lineError(
        'invalid',
        bad.line,
        `${bad.reject}; a JSON file holds an array of objects, or one object per line`,
      );
    }
    const message = sampled === 0 ? 'the file holds no JSON objects' : 'the JSON objects have no keys';
    throw new IngestError('invalid', `No columns: ${message}`, [{ line: 1, message }]);
  }

  const toRow = (parsed: Parsed): SourceRow => {
    const { line } = parsed;
    if ('reject' in parsed) return { line, reject: { line, message: parsed.reject } };
    const values: unknown[] = new Array(keys.size);
    for (const key in parsed.object) {
      const index = keys.get(key);
      if (index === undefined) {
        const message = `the key "${key}" is not among the columns found in the first ${limits.sampleRows} rows`;
        return { line, reject: { line, column: key, message } };
      }
      values[index] = parsed.object[key];
    }
    return { line, values };
  };

  async function* batches(): AsyncGenerator<SourceRow[]> {
    if (buffered.length > 0) yield buffered.map(toRow);
    for await (const batch of items) yield batch.map((item) => toRow(parseItem(item)));
  }

  return {
    format,
    names: [...keys.keys()],
    textual: false,
    batches: batches(),
    close: async () => {
      await items.return(undefined);
    },
  };
}
