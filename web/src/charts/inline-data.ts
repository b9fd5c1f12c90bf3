import { api } from '../api/client.ts';
import type { QueryResult } from '../api/types.ts';

type Spec = Record<string, unknown>;

function isObject(value: unknown): value is Spec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rows as objects keyed by column name, the shape Vega-Lite's inline data takes. */
export function toValues(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) =>
    Object.fromEntries(result.columns.map((column, index) => [column.name, row[index]])),
  );
}

/** Runs the query a `data` object names, as the signed-in user, through the data-service. */
async function valuesOf(source: Spec): Promise<Record<string, unknown>[]> {
  const body =
    typeof source.sql === 'string'
      ? { sql: source.sql }
      : { ...(isObject(source.query) ? source.query : {}), dataset: String(source.dataset) };
  return toValues(await api<QueryResult>('/api/v1/data/query', { method: 'POST', body }));
}

/**
 * A copy of the spec whose DataLab data sources (`{dataset, query}` or `{sql}`)
 * are replaced by their rows, for interactive rendering in the browser. The
 * viz-service resolves the same sources the same way when it renders images.
 */
export async function inlineData(spec: Spec): Promise<Spec> {
  const copy = structuredClone(spec);
  const pending: Promise<void>[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (key === 'data' && isObject(child) && ('dataset' in child || 'sql' in child)) {
        pending.push(
          valuesOf(child).then((values) => {
            node[key] = { values };
          }),
        );
      } else visit(child);
    }
  };
  visit(copy);
  await Promise.all(pending);
  return copy;
}
