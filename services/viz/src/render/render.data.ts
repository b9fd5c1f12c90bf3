import { AppError, type Principal } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';
import type { DataClient, QueryAnswer } from '../data/data.client.ts';
import { perFrozen } from '../memory/event-memory.ts';
import { sha256 } from './render.cache.ts';
import { findSources, replaceAt, type DataSource } from './render.sources.ts';

export interface ResolvedData {
  /** What the render depends on: dataset ids with versions, or the hash of a SQL answer. */
  versions: [string, string | number][];
  /** The spec with every source replaced by its rows; fetched only when called (a cache miss). */
  inline: () => Promise<ChartSpec>;
}

export interface DataDeps {
  data: DataClient;
  maxRows: number;
}

/** The data-service names fields of its own body (`/body/filters/0`): say where they are in the spec. */
function relocate(error: unknown, source: DataSource): unknown {
  if (!(error instanceof AppError)) return error;
  const base = source.kind === 'sql' ? `${source.pointer}/sql` : `${source.pointer}/query`;
  const errors = (error.errors ?? []).map((e) => ({
    ...e,
    field:
      source.kind === 'dataset' && e.field === '/body/dataset'
        ? `${source.pointer}/dataset`
        : e.field.startsWith('/body') && source.kind === 'dataset'
          ? `${base}${e.field.slice('/body'.length)}`
          : base,
  }));
  if (errors.length === 0 && error.kind === 'not_found')
    errors.push({ field: `${source.pointer}/dataset`, message: error.message });
  return new AppError(error.kind, error.message, { errors, cause: error });
}

function tooMany(source: DataSource, maxRows: number): AppError {
  return new AppError(
    'too_large',
    `The chart's data has more than ${maxRows} rows; aggregate it (group_by, aggregates) or filter it first`,
    { errors: [{ field: source.pointer, message: `has more than ${maxRows} rows` }] },
  );
}

function rowsOf(answer: QueryAnswer): Record<string, unknown>[] {
  const names = answer.columns.map((column) => column.name);
  return answer.rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]])));
}

/** The sources of a frozen spec (a saved chart remembered in memory) are found once per pointer. */
const sourcesOf = perFrozen((spec: ChartSpec, pointer: string) => findSources(spec, pointer));

/**
 * Finds the spec's DataLab sources and learns their versions as the caller
 * (so a render never uses data the caller may not read, cached or not);
 * rows are fetched, capped at maxRows + 1 to tell "too many" apart, only by
 * `inline()`. A SQL source is run at once: its answer's hash is its version.
 */
export async function resolveData(
  deps: DataDeps,
  principal: Principal,
  spec: ChartSpec,
  pointer: string,
): Promise<ResolvedData> {
  const sources = sourcesOf(spec, pointer);
  const versions: [string, string | number][] = [];
  const answers = new Map<DataSource, QueryAnswer>();
  const datasetIds = new Map<DataSource, string>();
  for (const source of sources) {
    try {
      if (source.kind === 'dataset') {
        const ref = await deps.data.dataset(principal, source.dataset);
        datasetIds.set(source, ref.id);
        versions.push([ref.id, ref.version]);
      } else {
        const answer = await deps.data.query(principal, { sql: source.sql });
        if (answer.truncated || answer.rows.length > deps.maxRows) throw tooMany(source, deps.maxRows);
        answers.set(source, answer);
        versions.push(['sql', sha256(JSON.stringify(answer))]);
      }
    } catch (error) {
      throw relocate(error, source);
    }
  }

  const inline = async (): Promise<ChartSpec> => {
    const copy = structuredClone(spec);
    let total = 0;
    for (const source of sources) {
      let answer = answers.get(source);
      if (!answer && source.kind === 'dataset') {
        const limit = Math.min(Number(source.query.limit ?? Number.POSITIVE_INFINITY), deps.maxRows + 1);
        const body = { ...source.query, dataset: datasetIds.get(source), limit };
        answer = await deps.data.query(principal, body).catch((error: unknown) => {
          throw relocate(error, source);
        });
        if (answer.rows.length > deps.maxRows) throw tooMany(source, deps.maxRows);
      }
      total += answer!.rows.length;
      if (total > deps.maxRows) throw tooMany(source, deps.maxRows);
      const values = rowsOf(answer!);
      // A named data source keeps its name: layers and lookups refer to it.
      replaceAt(copy, pointer, source.pointer, (old) =>
        typeof old.name === 'string' ? { name: old.name, values } : { values },
      );
    }
    return copy;
  };
  return { versions, inline };
}
