import { encodeArrow } from './format-arrow.ts';
import { encodeParquet } from './format-parquet.ts';
import { encodeCsv, encodeJson, type ResultSource } from './format-text.ts';
import type { QueryFormat } from './query.schemas.ts';

export const CONTENT_TYPES: Readonly<Record<QueryFormat, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
  parquet: 'application/vnd.apache.parquet',
};

export const FILE_EXTENSIONS: Readonly<Record<QueryFormat, string>> = {
  json: 'json',
  csv: 'csv',
  arrow: 'arrows',
  parquet: 'parquet',
};

const ENCODERS: Readonly<Record<QueryFormat, (source: ResultSource) => AsyncGenerator<Uint8Array>>> = {
  json: encodeJson,
  csv: encodeCsv,
  arrow: encodeArrow,
  parquet: encodeParquet,
};

export function encode(format: QueryFormat, source: ResultSource): AsyncGenerator<Uint8Array> {
  return ENCODERS[format](source);
}

const BY_MEDIA_TYPE = new Map<string, QueryFormat>([
  ['application/json', 'json'],
  ['text/csv', 'csv'],
  ['application/vnd.apache.arrow.stream', 'arrow'],
  ['application/vnd.apache.parquet', 'parquet'],
]);

/** The supported format the Accept header prefers most (by q), or undefined when it names none (e.g. *\/*). */
export function formatFromAccept(accept: string | undefined): QueryFormat | undefined {
  let best: { format: QueryFormat; q: number } | undefined;
  for (const part of (accept ?? '').split(',')) {
    const [media = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const format = BY_MEDIA_TYPE.get(media);
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (format && q > 0 && (!best || q > best.q)) best = { format, q };
  }
  return best?.format;
}
