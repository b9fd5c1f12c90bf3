import type { IngestLimits, RejectedRow } from './types.ts';

export type IngestErrorKind = 'invalid' | 'too_large' | 'unsupported';

/**
 * Why a file was refused. `invalid`: rows or structure are wrong (422), `too_large`: a limit was
 * exceeded (413), `unsupported`: not a file DataLab can read (415). `errors` name the places.
 */
export class IngestError extends Error {
  readonly kind: IngestErrorKind;
  readonly errors: RejectedRow[];

  constructor(kind: IngestErrorKind, message: string, errors: RejectedRow[] = []) {
    super(message);
    this.name = 'IngestError';
    this.kind = kind;
    this.errors = errors;
  }
}

/** A refusal about one line of the file, worded the same way everywhere. */
export function lineError(kind: IngestErrorKind, line: number, message: string): IngestError {
  return new IngestError(kind, `Line ${line}: ${message}`, [{ line, message }]);
}

/** More columns than the limit: refused as too large, from the line that shows it. */
export function tooManyColumns(count: number, limits: IngestLimits, line: number): IngestError {
  return lineError(
    'too_large',
    line,
    `the file has ${count} columns; at most ${limits.maxColumns} are allowed`,
  );
}

const REPORTED_CHARS = 200;

/** A value as a report shows it: text, at most 200 characters. */
export function reportValue(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Date && !Number.isNaN(value.getTime())
        ? value.toISOString()
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value, (_key, inner: unknown) =>
              typeof inner === 'bigint' ? inner.toString() : inner,
            )
          : String(value);
  return text.length > REPORTED_CHARS ? `${text.slice(0, REPORTED_CHARS)}…` : text;
}
