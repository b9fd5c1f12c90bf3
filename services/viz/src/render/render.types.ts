import type { ChartSpec } from '../charts/charts.spec.ts';

type Channel = Record<string, unknown>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const SAMPLE = 200;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** quantitative for numbers, temporal for ISO dates, nominal for the rest (nulls ignored). */
function guess(values: unknown[], field: string): string {
  let numbers = 0;
  let dates = 0;
  let seen = 0;
  for (const row of values.slice(0, SAMPLE)) {
    const value = isObject(row) ? row[field] : undefined;
    if (value === null || value === undefined) continue;
    seen += 1;
    if (typeof value === 'number') numbers += 1;
    else if (typeof value === 'string' && ISO_DATE.test(value)) dates += 1;
  }
  if (seen > 0 && numbers === seen) return 'quantitative';
  if (seen > 0 && dates === seen) return 'temporal';
  return 'nominal';
}

function fill(encoding: Channel, values: unknown[]): void {
  for (const def of Object.values(encoding)) {
    if (!isObject(def) || def.type !== undefined || typeof def.field !== 'string') continue;
    if (def.aggregate !== undefined || def.bin !== undefined) def.type = 'quantitative';
    else if (def.timeUnit !== undefined) def.type = 'temporal';
    else def.type = guess(values, def.field);
  }
}

/**
 * Gives every encoded field without a `type` one guessed from the inline
 * values, so a chart built without knowing the columns' types still draws
 * numbers as numbers and dates as dates. Unit and layered specs only.
 */
export function inferFieldTypes(spec: ChartSpec): ChartSpec {
  const values = isObject(spec.data) && Array.isArray(spec.data.values) ? spec.data.values : [];
  if (isObject(spec.encoding)) fill(spec.encoding, values);
  if (Array.isArray(spec.layer))
    for (const layer of spec.layer) {
      if (!isObject(layer) || !isObject(layer.encoding)) continue;
      const own = isObject(layer.data) && Array.isArray(layer.data.values) ? layer.data.values : values;
      fill(layer.encoding, own);
    }
  return spec;
}
