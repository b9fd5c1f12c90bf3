import { Transform, type Readable } from 'node:stream';
import { Type } from 'typebox';
import { AppError, defineJobType, type JobType } from '@datalab/platform';
import { createDatasetTable } from '../datasets/dataset-tables.ts';
import type { UploadOptions } from '../datasets/datasets.schemas.ts';
import { copyUpload } from '../datasets/upload-copy.ts';
import { ingestOptions } from '../datasets/upload-options.ts';
import { asJobError, type DataJobContext } from './job-context.ts';
import { OutputParams } from './job-output.ts';
import { writeTableOutput } from './table-output.ts';
import { addressPolicy, guardedDownload } from './import-url.fetch.ts';

const MAX_REDIRECTS = 5;

export const ImportUrlParams = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      description: 'An http(s) URL of a CSV, JSON, NDJSON or Parquet file.',
    }),
    format: Type.Optional(
      Type.Union(
        [Type.Literal('csv'), Type.Literal('json'), Type.Literal('ndjson'), Type.Literal('parquet')],
        {
          description: 'Default: from the file name, the Content-Type, then the bytes.',
        },
      ),
    ),
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 2 })),
    header: Type.Optional(Type.Boolean({ description: 'CSV: whether the first row names the columns.' })),
    on_error: Type.Optional(
      Type.Union([Type.Literal('fail'), Type.Literal('skip')], {
        description: '`fail` (default): a bad row fails the import; `skip`: bad rows are left out.',
      }),
    ),
    ...OutputParams,
  },
  { additionalProperties: false },
);

const FORMAT_BY_TYPE: Record<string, UploadOptions['format']> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
};

/** The last path segment names the file, so the ingest pipeline can tell its format by extension. */
function filenameOf(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
  return last || 'download';
}

/** Counts bytes through, refusing the download past `max`, and reports how far it got. */
function meter(max: number, onBytes: (bytes: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) {
        callback(new AppError('too_large', `The file is larger than the ${max} bytes allowed`));
        return;
      }
      onBytes(seen);
      callback(null, chunk);
    },
  });
}

/**
 * `import-url`: a file from an http(s) URL through the same ingest pipeline
 * as an upload, into a new dataset of the job's owner. Addresses that are not
 * public are refused at connect time (see import-url.fetch.ts).
 */
export function importUrlJob(context: DataJobContext): JobType {
  const { config } = context;
  const permits = addressPolicy(config.importAllowPrivate, config.importAllowedNetworks);
  return defineJobType({
    type: 'import-url',
    queue: 'data',
    params: ImportUrlParams,
    timeoutMs: 60 * 60_000,
    maxAttempts: 3,
    handler: ({ jobId, params, owner, signal, progress, log }) =>
      asJobError(async () => {
        const { url, format, delimiter, header, on_error, ...options } = params;
        const result = await writeTableOutput(
          context,
          { jobId, type: 'import-url', owner, options, signal },
          async (client, tableName) => {
            const download = await guardedDownload(url, {
              permits,
              timeoutMs: config.importTimeoutMs,
              maxRedirects: MAX_REDIRECTS,
              signal,
            });
            try {
              await log('info', `downloading ${download.url.origin}${download.url.pathname}`);
              const total = download.length;
              const mime = download.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
              const upload: UploadOptions = {
                ...((format ?? FORMAT_BY_TYPE[mime]) ? { format: format ?? FORMAT_BY_TYPE[mime] } : {}),
                ...(delimiter ? { delimiter } : {}),
                ...(header === undefined ? {} : { header: header ? 'true' : 'false' }),
                ...(on_error ? { on_error } : {}),
              };
              const counted: Readable = download.body.pipe(
                meter(config.maxUploadBytes, (bytes) => {
                  void progress(total ? (bytes / total) * 95 : 50, `${bytes} bytes read`);
                }),
              );
              download.body.on('error', (error) => counted.destroy(error));
              const { result, columns } = await copyUpload(
                client,
                counted,
                ingestOptions(upload, filenameOf(download.url), config),
                async (found) => {
                  await createDatasetTable(client, tableName, found);
                  return tableName;
                },
              );
              return {
                columns,
                rowsWritten: result.rowsWritten,
                rowsRejected: result.rowsRejected,
                sourceFormat: result.format,
              };
            } finally {
              await download.close();
            }
          },
        );
        await progress(100, `${result.row_count} rows in dataset ${result.name}`);
        return result;
      }),
  });
}
