import { AppError, type ConfigOf } from '@datalab/platform';
import type { dataConfigSchema } from '../config.ts';
import type { IngestOptions } from '../ingest/index.ts';
import type { UploadOptions } from './datasets.schemas.ts';
import { COLUMN_TYPES, type ColumnType } from './datasets.types.ts';

export type DataConfig = ConfigOf<typeof dataConfigSchema>;

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The given name, or one made from the file name (`Sales 2024.csv` → `sales_2024`). */
export function nameFor(given: string | undefined, filename: string): string {
  if (given !== undefined) {
    const name = given.trim().toLowerCase();
    if (!NAME.test(name)) {
      throw new AppError(
        'invalid',
        'A dataset name is a SQL identifier: letters, digits and _, not starting with a digit',
        {
          errors: [{ field: 'name', message: 'must match [a-z_][a-z0-9_]*, at most 63 characters' }],
        },
      );
    }
    return name;
  }
  const base = filename.replace(/\.[^.]*$/, '').toLowerCase();
  const slug =
    base
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 60) || 'dataset';
  return /^[0-9]/.test(slug) ? `d_${slug}` : slug;
}

function parseTypes(raw: string | undefined): Record<string, ColumnType> | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AppError('invalid', 'types must be a JSON object of column → type', {
      errors: [{ field: 'types', message: 'is not JSON' }],
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError('invalid', 'types must be a JSON object of column → type', {
      errors: [{ field: 'types', message: 'must be an object' }],
    });
  }
  for (const [column, type] of Object.entries(parsed)) {
    if (!(COLUMN_TYPES as readonly unknown[]).includes(type)) {
      throw new AppError('invalid', `Unknown type for column ${column}`, {
        errors: [{ field: `types.${column}`, message: `must be one of ${COLUMN_TYPES.join(', ')}` }],
      });
    }
  }
  return parsed as Record<string, ColumnType>;
}

export function ingestOptions(options: UploadOptions, filename: string, config: DataConfig): IngestOptions {
  const types = parseTypes(options.types);
  return {
    filename,
    onError: options.on_error ?? 'fail',
    limits: {
      maxColumns: config.maxColumns,
      maxCellBytes: config.maxCellBytes,
      maxErrorsReported: config.maxErrorsReported,
      sampleRows: config.sampleRows,
      maxRowGroupBytes: config.maxRowGroupBytes,
      maxZipEntries: config.maxZipEntries,
      maxUnzippedBytes: config.maxUnzippedBytes,
      maxZipRatio: config.maxZipRatio,
      maxSharedStringsBytes: config.maxSharedStringsBytes,
    },
    ...(options.format ? { format: options.format } : {}),
    ...(options.delimiter ? { delimiter: options.delimiter === '\\t' ? '\t' : options.delimiter } : {}),
    ...(options.quote ? { quote: options.quote } : {}),
    ...(options.header ? { header: options.header === 'true' } : {}),
    ...(options.encoding ? { encoding: options.encoding } : {}),
    ...(options.sheet ? { sheet: options.sheet } : {}),
    ...(types ? { columnTypes: types } : {}),
  };
}
