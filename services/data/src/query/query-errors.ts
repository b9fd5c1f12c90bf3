import { AppError } from '@datalab/platform';
import { tempFilesTooLarge } from './limits.ts';

interface DatabaseErrorLike {
  code?: string;
  message: string;
  position?: string;
}

/** Turns PostgreSQL's 1-based error position (in the SQL that ran) into a refusal pointing at the caller's text. */
export type Locate = (message: string, position: number) => AppError;

function isDatabaseError(error: unknown): error is DatabaseErrorLike {
  return error instanceof Error && typeof (error as DatabaseErrorLike).code === 'string';
}

/** SQLSTATE classes that describe the caller's query, not the server: data, syntax and access-rule errors. */
const CALLER_CLASSES = new Set(['21', '22', '25', '2F', '42', '0A']);

/** The limits the session ran under, to name the one a refusal is about. */
export interface SessionSettings {
  timeoutMs: number;
  /** Set when DataLab set temp_file_limit (the query login). */
  tempFileBytes?: number | undefined;
}

/**
 * The database's refusals in the caller's terms. A statement timeout is the
 * caller's query running too long; errors about the query itself are 400s
 * with PostgreSQL's message; anything else stays a server error.
 */
export function translateQueryError(error: unknown, settings: SessionSettings, locate?: Locate): unknown {
  if (!isDatabaseError(error) || !error.code) return error;
  const { timeoutMs, tempFileBytes } = settings;
  const seconds = Number((timeoutMs / 1000).toFixed(3));
  if (error.code === '57014') {
    return new AppError('invalid', `The query ran longer than the ${seconds} s limit and was stopped`, {
      cause: error,
    });
  }
  if (error.code === '25P03') {
    return new AppError('invalid', `The answer was not read for ${seconds} s and the query was stopped`, {
      cause: error,
    });
  }
  if (error.code === '53400' && tempFileBytes !== undefined && /temp_file_limit/.test(error.message)) {
    return tempFilesTooLarge(tempFileBytes, error);
  }
  if (error.code.startsWith('53')) {
    return new AppError('too_large', 'The query needs more memory or disk than the server allows', {
      cause: error,
    });
  }
  if (!CALLER_CLASSES.has(error.code.slice(0, 2))) return error;
  const position = Number(error.position);
  if (locate && Number.isInteger(position) && position > 0) return locate(error.message, position);
  return new AppError('invalid', `The query failed: ${error.message}`, { cause: error });
}
