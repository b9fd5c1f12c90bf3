import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';

/** A `data` object of the spec that names DataLab data instead of carrying values. */
export type DataSource =
  | { pointer: string; kind: 'dataset'; dataset: string; query: Record<string, unknown> }
  | { pointer: string; kind: 'sql'; sql: string };

/** More would be a dashboard, not a chart. */
export const MAX_SOURCES = 10;

/** Structured-query members the viz-service sets itself. */
const RESERVED_QUERY_KEYS = ['dataset', 'format'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(errors: ProblemFieldError[]): AppError {
  return new AppError(
    'invalid',
    `The chart's data is wrong: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
    {
      errors,
    },
  );
}

function sourceOf(node: Record<string, unknown>, pointer: string): DataSource {
  if ('sql' in node) {
    if (typeof node.sql !== 'string' || node.sql.trim() === '')
      throw invalid([
        { field: `${pointer}/sql`, message: 'must be a SELECT statement (a non-empty string)' },
      ]);
    const extra = Object.keys(node).filter((key) => !['sql', 'name', 'format'].includes(key));
    if (extra.length > 0)
      throw invalid(
        extra.map((key) => ({ field: `${pointer}/${key}`, message: 'is not allowed beside sql' })),
      );
    return { pointer, kind: 'sql', sql: node.sql };
  }
  if (typeof node.dataset !== 'string' || node.dataset === '' || node.dataset.length > 100)
    throw invalid([{ field: `${pointer}/dataset`, message: 'must be a dataset id or name' }]);
  const query = node.query ?? {};
  if (!isObject(query))
    throw invalid([{ field: `${pointer}/query`, message: 'must be a structured query object' }]);
  const reserved = RESERVED_QUERY_KEYS.filter((key) => key in query);
  if (reserved.length > 0)
    throw invalid(
      reserved.map((key) => ({
        field: `${pointer}/query/${key}`,
        message: 'is set by the renderer; leave it out',
      })),
    );
  const extra = Object.keys(node).filter((key) => !['dataset', 'query', 'name', 'format'].includes(key));
  if (extra.length > 0)
    throw invalid(
      extra.map((key) => ({ field: `${pointer}/${key}`, message: 'is not allowed beside dataset' })),
    );
  return { pointer, kind: 'dataset', dataset: node.dataset, query };
}

/**
 * Every `data` object naming a dataset (`{dataset, query}`) or a query
 * (`{sql}`), with its JSON pointer. Breadth-first: the spec's depth was
 * bounded by assertValidSpec already.
 */
export function findSources(spec: ChartSpec, pointer: string): DataSource[] {
  const sources: DataSource[] = [];
  const queue: { value: Record<string, unknown> | unknown[]; pointer: string }[] = [{ value: spec, pointer }];
  for (let next = 0; next < queue.length; next += 1) {
    const node = queue[next]!;
    for (const [key, child] of Object.entries(node.value)) {
      const at = `${node.pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (key === 'data' && isObject(child) && ('dataset' in child || 'sql' in child)) {
        sources.push(sourceOf(child, at));
        continue;
      }
      if (typeof child === 'object' && child !== null)
        queue.push({ value: child as Record<string, unknown>, pointer: at });
    }
  }
  if (sources.length > MAX_SOURCES)
    throw invalid([
      { field: pointer, message: `reads ${sources.length} data sources; at most ${MAX_SOURCES} are allowed` },
    ]);
  return sources;
}

/** Replaces the object at a JSON pointer below `base` (both as produced by findSources). */
export function replaceAt(
  spec: ChartSpec,
  base: string,
  pointer: string,
  replace: (old: Record<string, unknown>) => unknown,
): void {
  const segments = pointer
    .slice(base.length + 1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Record<string, unknown> = spec;
  for (const segment of segments.slice(0, -1)) node = node[segment] as Record<string, unknown>;
  const last = segments.at(-1)!;
  node[last] = replace(node[last] as Record<string, unknown>);
}
