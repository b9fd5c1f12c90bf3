import { AppError, type RowBudget } from '@datalab/platform';
import type { QueryConfig } from './query.config.ts';

/**
 * What one reader session may take, and the refusals that name the setting at fault. Every
 * answer has a byte budget beside the row cap: rows are counted from their wire headers before
 * they are read (see the platform's row budget), answers again as they are encoded.
 */

export interface SessionLimits {
  rows: RowBudget;
  /** PostgreSQL work_mem of the session. */
  workMemBytes: number;
  /** PostgreSQL temp_file_limit; only a login granted SET on it can take one (the query login). */
  tempFileBytes?: number;
}

/** 64 MiB, 1.5 GiB: a size as a person reads it. */
export function sizeText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}

function tooLarge(message: string, setting: string, limitBytes: number): AppError {
  return new AppError('too_large', message, { extensions: { limit: setting, limit_bytes: limitBytes } });
}

export function answerTooLarge(limitBytes: number): AppError {
  return tooLarge(
    `The answer is larger than the ${sizeText(limitBytes)} an answer may have (QUERY_MAX_ANSWER_BYTES): select fewer rows or columns, or export the data with a job`,
    'QUERY_MAX_ANSWER_BYTES',
    limitBytes,
  );
}

export function pageTooLarge(limitBytes: number): AppError {
  return tooLarge(
    `This page of rows is larger than the ${sizeText(limitBytes)} a page may have (QUERY_MAX_ANSWER_BYTES): ask for fewer rows (limit)`,
    'QUERY_MAX_ANSWER_BYTES',
    limitBytes,
  );
}

export function rowTooLarge(limitBytes: number): AppError {
  return tooLarge(
    `A row is larger than the ${sizeText(limitBytes)} a row may have (QUERY_MAX_ANSWER_BYTES)`,
    'QUERY_MAX_ANSWER_BYTES',
    limitBytes,
  );
}

export function exportTooLarge(limitBytes: number): AppError {
  return tooLarge(
    `The export is larger than the ${sizeText(limitBytes)} an export may have (QUERY_EXPORT_MAX_BYTES): query the rows you need instead`,
    'QUERY_EXPORT_MAX_BYTES',
    limitBytes,
  );
}

export function tempFilesTooLarge(limitBytes: number, cause: unknown): AppError {
  return new AppError(
    'too_large',
    `The query needs more than the ${sizeText(limitBytes)} of temporary disk space a query may use (QUERY_TEMP_FILE_BYTES): filter or aggregate before sorting, or sort fewer rows`,
    { extensions: { limit: 'QUERY_TEMP_FILE_BYTES', limit_bytes: limitBytes }, cause },
  );
}

type Limits = Pick<QueryConfig, 'queryMaxAnswerBytes' | 'queryWorkMemBytes' | 'queryTempFileBytes'>;

function session(config: Limits, rows: RowBudget, restricted: boolean): SessionLimits {
  return {
    rows,
    workMemBytes: config.queryWorkMemBytes,
    ...(restricted ? { tempFileBytes: config.queryTempFileBytes } : {}),
  };
}

/**
 * An answer: every row and all rows together within QUERY_MAX_ANSWER_BYTES. `restricted`: the
 * session runs on the query login, which may set temp_file_limit.
 */
export function answerLimits(config: Limits, restricted: boolean): SessionLimits {
  const max = config.queryMaxAnswerBytes;
  return session(
    config,
    {
      maxRowBytes: max,
      maxTotalBytes: max,
      exceeded: (what) => (what === 'row' ? rowTooLarge : answerTooLarge)(max),
    },
    restricted,
  );
}

/** An export: rows within QUERY_MAX_ANSWER_BYTES each, QUERY_EXPORT_MAX_BYTES together. */
export function exportLimits(config: Limits & Pick<QueryConfig, 'queryExportMaxBytes'>, restricted: boolean) {
  const row = config.queryMaxAnswerBytes;
  const total = config.queryExportMaxBytes;
  return session(
    config,
    {
      maxRowBytes: row,
      maxTotalBytes: total,
      exceeded: (what) => (what === 'row' ? rowTooLarge(row) : exportTooLarge(total)),
    },
    restricted,
  );
}

/** A data job's query: rows within QUERY_MAX_ANSWER_BYTES each, any number of them (they go into a dataset). */
export function jobLimits(config: Limits): SessionLimits {
  const row = config.queryMaxAnswerBytes;
  return session(
    config,
    { maxRowBytes: row, maxTotalBytes: Number.POSITIVE_INFINITY, exceeded: () => rowTooLarge(row) },
    true,
  );
}

/** Without a restricted login, user SQL would run on the service's own login behind SET ROLE only. */
export function userSqlOff(): AppError {
  return new AppError(
    'unavailable',
    'User SQL is off here: QUERY_DATABASE_URL is not set, and DataLab does not run user SQL on its own login. An operator gives it a login that is only a member of datalab_reader (see docs/deployment.md)',
  );
}

/** The query login exists but was not granted what the limits need (an operator's step). */
export function tempLimitNotGranted(cause: unknown): AppError {
  return new AppError(
    'unavailable',
    'User SQL is off here: the query login may not set temp_file_limit. An operator runs, as a superuser: GRANT SET ON PARAMETER temp_file_limit TO <the QUERY_DATABASE_URL login> (PostgreSQL 15 or later; see docs/deployment.md)',
    { cause },
  );
}
