import pg from 'pg';
import type { CustomTypesConfig } from 'pg';

/**
 * How dataset values leave PostgreSQL for JSON answers. pg's defaults would
 * turn every bigint into a string, dates into local-midnight Date objects and
 * timestamps into Dates that drop microseconds; these keep each value exact.
 */

const INT8 = 20;
const FLOAT8 = 701;
const DATE = 1082;
const TIMESTAMPTZ = 1184;

/** A bigint as a JSON number when it fits one exactly, else as its decimal string. */
export function integerValue(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** JSON has no NaN or Infinity: those stay strings, as PostgreSQL writes them. */
function floatValue(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

/** PostgreSQL's ISO output (`2024-01-02 10:00:00.123456+00`) as RFC 3339, microseconds kept. */
export function timestampValue(text: string): string {
  const match =
    /^(\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(text);
  // Infinite and BC timestamps have no RFC 3339 form; they keep PostgreSQL's.
  if (!match) return text;
  const [, day, time, hours, minutes = '00', seconds] = match;
  return `${day}T${time}${hours}:${minutes}${seconds ? `:${seconds}` : ''}`;
}

const parsers: Readonly<Record<number, (text: string) => unknown>> = {
  [INT8]: integerValue,
  [FLOAT8]: floatValue,
  [DATE]: (text) => text,
  [TIMESTAMPTZ]: timestampValue,
};

function parserFor(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
  return parsers[oid] ?? (pg.types.getTypeParser(oid, format) as (text: string) => unknown);
}

export const valueTypes: CustomTypesConfig = {
  getTypeParser: parserFor as CustomTypesConfig['getTypeParser'],
};
