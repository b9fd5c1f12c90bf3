import { AppError } from '@datalab/platform';

/**
 * DuckDB's errors in the caller's terms. DuckDB prefixes each message with
 * its kind ("Binder Error: …"); the kinds that describe the query itself are
 * the caller's mistake (400), memory and disk exhaustion are "too large"
 * (413), and anything else (internal errors, I/O on our own files) stays a
 * server error whose text the platform's handler does not show.
 */

const CALLER_KINDS =
  /^(Parser|Binder|Catalog|Conversion|Invalid Input|Invalid type|Out of Range|Not implemented|Permission|Constraint|Dependency|Mismatch Type|Syntax|Type|Sequence|Missing Extension|Invalid Configuration|Invalid|Decimal|Parameter Not Allowed|Parameter Not Resolved) Error: /;

const MEMORY_KINDS = /^(Out of Memory) Error: /;

/** DuckDB's message without the echo of the SQL it adds after a blank line ("LINE 1: …"). */
function firstPart(message: string): string {
  return message
    .split(/\n\s*\n|\nLINE \d+:/)[0]!
    .trim()
    .replace(/\s*\n\s*/g, ' ');
}

/** Line and column from DuckDB's "LINE n: <text>\n<spaces>^" echo, when the echoed line starts at column 1. */
function position(message: string): { line: number; column: number } | undefined {
  const match = /LINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!match || match[2]!.startsWith('...')) return undefined;
  const prefix = `LINE ${match[1]}: `.length;
  return { line: Number(match[1]), column: match[3]!.length - prefix + 1 };
}

export function timeoutError(timeoutMs: number): AppError {
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  return new AppError('invalid', `The query ran longer than the ${seconds} s limit and was stopped`, {
    extensions: { limit: 'timeout', timeout_ms: timeoutMs },
  });
}

export function tooLargeAnswer(maxBytes: number): AppError {
  return new AppError(
    'too_large',
    `The answer is larger than the ${maxBytes}-byte answer budget; select fewer rows or columns, or aggregate`,
    { extensions: { limit: 'answer_bytes', max_bytes: maxBytes } },
  );
}

/** Translates an error DuckDB raised while preparing or running the caller's query. */
export function translateDuckError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = firstPart(error.message);
  if (
    MEMORY_KINDS.test(error.message) ||
    /could not (allocate|grow).*temp|max_temp_directory_size/i.test(error.message)
  ) {
    return new AppError(
      'too_large',
      'The query needs more memory or temporary disk than the server allows it; filter or aggregate more',
      { cause: error, extensions: { limit: 'memory' } },
    );
  }
  if (!CALLER_KINDS.test(error.message)) return error;
  const at = position(error.message);
  const placed = at ? `${message} (line ${at.line}, column ${at.column})` : message;
  return new AppError('invalid', `The query failed: ${placed}`, {
    cause: error,
    errors: [{ field: '/body/sql', message: placed }],
    ...(at ? { extensions: { line: at.line, column: at.column } } : {}),
  });
}
