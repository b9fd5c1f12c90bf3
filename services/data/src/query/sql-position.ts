import { AppError } from '@datalab/platform';

/** Where in the caller's SQL something is: 1-based, in characters, as PostgreSQL reports positions. */
export interface SqlPosition {
  position: number;
  line: number;
  column: number;
}

/** The parser reports byte offsets into the UTF-8 text; a person counts characters. */
export function positionAt(sql: string, byteOffset: number): SqlPosition {
  const before = Buffer.from(sql, 'utf8').subarray(0, Math.max(0, byteOffset)).toString('utf8');
  const lines = before.split('\n');
  const last = lines.at(-1) ?? '';
  return { position: [...before].length + 1, line: lines.length, column: [...last].length + 1 };
}

/** A refusal of the caller's SQL that says what is wrong and, when known, where. */
export function sqlError(sql: string, message: string, byteOffset?: number): AppError {
  if (byteOffset === undefined || byteOffset < 0) {
    return new AppError('invalid', message, { errors: [{ field: '/body/sql', message }] });
  }
  const at = positionAt(sql, byteOffset);
  const placed = `${message} (line ${at.line}, column ${at.column})`;
  return new AppError('invalid', placed, {
    errors: [{ field: '/body/sql', message: placed }],
    extensions: { position: at.position, line: at.line, column: at.column },
  });
}
