import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';

/**
 * Checks made on the Vega-Lite spec before anything runs: Vega computes on
 * the main thread, so whatever could make it allocate without bound
 * (generated sequences, huge tick counts, allocating expression functions)
 * is refused up front, and the marks drawn are counted after the run.
 */

const MARKS = new Set([
  'arc',
  'area',
  'bar',
  'image',
  'line',
  'point',
  'rect',
  'rule',
  'text',
  'tick',
  'trail',
  'circle',
  'square',
  'geoshape',
  'boxplot',
  'errorband',
  'errorbar',
]);
const TYPES = new Set(['quantitative', 'ordinal', 'temporal', 'nominal', 'geojson']);
const AGGREGATES = new Set([
  'argmax',
  'argmin',
  'average',
  'count',
  'distinct',
  'max',
  'mean',
  'median',
  'min',
  'missing',
  'product',
  'q1',
  'q3',
  'ci0',
  'ci1',
  'stderr',
  'stdev',
  'stdevp',
  'sum',
  'valid',
  'values',
  'variance',
  'variancep',
  'exponential',
  'exponentialb',
]);
/** Keys whose string values are Vega expressions. */
const EXPRESSION_KEYS = new Set(['calculate', 'filter', 'expr', 'test', 'update', 'signal']);
/** Expression functions that allocate in proportion to their arguments, or run caller-made regular expressions. */
const REFUSED_FUNCTIONS = /\b(sequence|pad|regexp|test|replace|span)\s*\(/;
const MAX_TICK_COUNT = 1000;

export interface SpecLimits {
  maxRows: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sequenceLength(value: unknown): number {
  if (!isObject(value)) return 0;
  const start = Number(value.start ?? 0);
  const stop = Number(value.stop);
  const step = Math.abs(Number(value.step ?? 1));
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !(step > 0)) return Number.POSITIVE_INFINITY;
  return Math.ceil(Math.abs(stop - start) / step);
}

interface Found {
  errors: ProblemFieldError[];
  rows: number;
}

function checkEncoding(encoding: Record<string, unknown>, at: string, found: Found): void {
  for (const [channel, def] of Object.entries(encoding)) {
    for (const item of Array.isArray(def) ? def : [def]) {
      if (!isObject(item)) continue;
      if (item.type !== undefined && (typeof item.type !== 'string' || !TYPES.has(item.type)))
        found.errors.push({
          field: `${at}/${channel}/type`,
          message: `must be one of ${[...TYPES].join(', ')}`,
        });
      if (typeof item.aggregate === 'string' && !AGGREGATES.has(item.aggregate))
        found.errors.push({
          field: `${at}/${channel}/aggregate`,
          message: `"${item.aggregate}" is not an aggregate`,
        });
    }
  }
}

type Context = 'spec' | 'data' | 'config';

function checkNode(key: string, value: unknown, context: Context, at: string, found: Found): void {
  const parentIsData = context === 'data';
  if (key === 'mark' && context === 'spec') {
    const type = isObject(value) ? value.type : value;
    if (typeof type !== 'string' || !MARKS.has(type))
      found.errors.push({
        field: isObject(value) ? `${at}/type` : at,
        message: `must be one of ${[...MARKS].join(', ')}`,
      });
  }
  if (key === 'encoding' && context === 'spec' && isObject(value)) checkEncoding(value, at, found);
  if (key === 'values' && parentIsData && Array.isArray(value)) found.rows += value.length;
  if (key === 'sequence' && parentIsData) found.rows += sequenceLength(value);
  if (key === 'keyvals' && isObject(value)) found.rows += sequenceLength(value);
  if (key === 'tickCount' && typeof value === 'number' && value > MAX_TICK_COUNT)
    found.errors.push({ field: at, message: `must be at most ${MAX_TICK_COUNT}` });
  if (EXPRESSION_KEYS.has(key) && typeof value === 'string' && REFUSED_FUNCTIONS.test(value))
    found.errors.push({
      field: at,
      message:
        'uses an expression function that is not allowed in server-side renders (sequence, pad, span, regexp, test, replace)',
    });
}

/**
 * Refuses (400) a spec Vega-Lite would misread — unknown marks, encoding
 * types or aggregates — or one that uses refused expression functions, and
 * (413) one whose inline and generated rows exceed `maxRows`.
 */
export function assertRenderable(spec: ChartSpec, pointer: string, limits: SpecLimits): void {
  const found: Found = { errors: [], rows: 0 };
  const queue: { value: object; pointer: string; context: Context }[] = [
    { value: spec, pointer, context: 'spec' },
  ];
  for (let next = 0; next < queue.length; next += 1) {
    const node = queue[next]!;
    const isArray = Array.isArray(node.value);
    for (const [key, child] of Object.entries(node.value)) {
      const at = `${node.pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!isArray) checkNode(key, child, node.context, at, found);
      // Inline rows are data, not spec: counted, never walked (a column may well be called "mark").
      if ((key === 'values' && node.context === 'data') || (key === 'datasets' && node.value === spec))
        continue;
      if (typeof child === 'object' && child !== null) {
        const context: Context =
          key === 'data'
            ? 'data'
            : key === 'config'
              ? 'config'
              : node.context === 'data'
                ? 'spec'
                : node.context;
        queue.push({ value: child as object, pointer: at, context });
      }
    }
  }
  if (isObject(spec.datasets))
    for (const rows of Object.values(spec.datasets)) if (Array.isArray(rows)) found.rows += rows.length;
  if (found.errors.length > 0)
    throw new AppError(
      'invalid',
      `The chart spec is wrong: ${found.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      {
        errors: found.errors,
      },
    );
  if (found.rows > limits.maxRows)
    throw new AppError(
      'too_large',
      `The chart would draw from ${found.rows} rows; at most ${limits.maxRows} are rendered. Aggregate or filter the data first.`,
      {
        errors: [{ field: pointer, message: `reads more than ${limits.maxRows} rows` }],
      },
    );
}
