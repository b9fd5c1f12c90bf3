import type { Principal } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { readAll } from '../engine/run-statement.ts';
import type { ResultValue } from '../query/result-values.ts';
import type { DatasetFiles, OpenedSources } from '../versions/dataset-files.ts';
import { answerColumns } from './answer-columns.ts';

/**
 * The owner's SQL as the query API runs it: DuckDB's guard, and only the
 * datasets the owner may read (any other name is "not found"), each its
 * current version's files. A job writes the whole answer, with no row cap.
 */

export interface OwnerQueryDeps {
  files: DatasetFiles;
  catalog: Catalog;
  owner: Principal;
}

/** The datasets `sql` reads, after the guard, opened for the engine; throws "not found" for one the owner may not read. */
async function openOwnerSources(deps: OwnerQueryDeps, sql: string): Promise<OpenedSources> {
  const guarded = await deps.files.engine.guard(sql);
  const datasets = await deps.catalog.readableByNames(deps.owner, guarded.datasetNames);
  return deps.files.open([...datasets.values()]);
}

export interface WrittenAnswer {
  /** The version's files, in the staged folder. */
  files: string[];
  rows: number;
  columns: DatasetColumn[];
}

/** Writes the whole answer of the owner's `sql` as one version's Parquet file in `outDir`. */
export async function writeOwnerQuery(
  deps: OwnerQueryDeps,
  sql: string,
  outDir: string,
  signal: AbortSignal,
): Promise<WrittenAnswer> {
  const opened = await openOwnerSources(deps, sql);
  try {
    let columns: DatasetColumn[] = [];
    const written = await deps.files.engine.writer.fromQuery({
      select: sql,
      datasets: opened.sources,
      outDir,
      signal,
      shape: (answer) => {
        const shaped = answerColumns(answer);
        columns = shaped.columns;
        return shaped.written;
      },
    });
    return { files: written.files, rows: written.rows, columns };
  } finally {
    opened.release();
  }
}

/** The rows of a small query of the owner's (at most `maxRows`), under the query timeout. */
export async function queryAsOwner(
  deps: OwnerQueryDeps,
  sql: string,
  limits: { maxRows: number; timeoutMs: number; signal: AbortSignal },
): Promise<ResultValue[][]> {
  const opened = await openOwnerSources(deps, sql);
  try {
    const result = await deps.files.engine.query({ sql, datasets: opened.sources, limits });
    return (await readAll(result)).rows;
  } finally {
    opened.release();
  }
}
