import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';
import {
  EXPRESSION_KEYS,
  formatCallWidths,
  formatWidth,
  MAX_FORMAT_WIDTH,
  LOGICAL_KEYS,
  REFUSED_FUNCTIONS_MESSAGE,
  usesRefusedFunction,
} from './render.expressions.ts';

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
const MAX_TICK_COUNT = 1000;
/** The largest side a render may ask for (the same as the width and height query parameters). */
const MAX_SIDE = 8192;
/** Sizes of a view in CSS pixels: Vega builds its scales, axes and scenegraph for the whole area. */
const SIZE_KEYS = new Set([
  'width',
  'height',
  'continuousWidth',
  'continuousHeight',
  'discreteWidth',
  'discreteHeight',
  'padding',
]);
/** Values a transform may generate beside its rows (quantile probabilities, density steps). */
const MAX_GENERATED = 10_000;

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
  /** Rows each row may become: a fold makes one per field it folds. */
  fanOut: number;
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
  if (SIZE_KEYS.has(key) && context !== 'data') checkSize(value, at, found);
  if (key === 'maxbins' && !(typeof value === 'number' && value <= MAX_TICK_COUNT))
    found.errors.push({ field: at, message: `must be a number of at most ${MAX_TICK_COUNT}` });
  if (key === 'bin' && isObject(value)) checkBinSteps(value, at, found);
  // An object tick count ({interval: 'millisecond'}) asks for a tick per interval, however many.
  if (key === 'tickCount' && (typeof value === 'number' ? value > MAX_TICK_COUNT : typeof value !== 'string'))
    found.errors.push({ field: at, message: `must be a number of at most ${MAX_TICK_COUNT}` });
  if (EXPRESSION_KEYS.has(key) && typeof value === 'string') checkExpression(value, at, found);
  if (key === 'format' && typeof value === 'string' && formatWidth(value) > MAX_FORMAT_WIDTH)
    found.errors.push({ field: at, message: `pads labels wider than ${MAX_FORMAT_WIDTH} characters` });
  if (key === 'transform' && Array.isArray(value)) checkTransforms(value, at, found);
}

function checkExpression(expression: string, at: string, found: Found): void {
  if (usesRefusedFunction(expression)) found.errors.push({ field: at, message: REFUSED_FUNCTIONS_MESSAGE });
  else if (formatCallWidths(expression).some((width) => width > MAX_FORMAT_WIDTH))
    found.errors.push({ field: at, message: `formats values wider than ${MAX_FORMAT_WIDTH} characters` });
}

/** A size is a number, `{step}` per band, or (padding) per side; each at most MAX_SIDE. */
function checkSize(value: unknown, at: string, found: Found): void {
  const sides = isObject(value) ? Object.entries(value) : [['', value] as const];
  for (const [side, size] of sides)
    if (typeof size === 'number' && !(Math.abs(size) <= MAX_SIDE))
      found.errors.push({
        field: side ? `${at}/${side}` : at,
        message: `must be at most ${MAX_SIDE} pixels`,
      });
}

/**
 * Vega lists every bin boundary for the scale at once (a fatal allocation past V8's array limit),
 * so a fixed bin step needs a fixed extent to count the bins against; `maxbins` bounds them itself.
 */
function checkBinSteps(bin: Record<string, unknown>, at: string, found: Found): void {
  const steps = [bin.step, ...(Array.isArray(bin.steps) ? (bin.steps as unknown[]) : [])].filter(
    (step) => step !== undefined,
  );
  if (steps.length === 0) return;
  const smallest = Math.min(...steps.map(Number));
  const extent = Array.isArray(bin.extent) ? bin.extent.map(Number) : [];
  const span = extent.length === 2 ? Math.abs(extent[1]! - extent[0]!) : Number.NaN;
  if (!(span / smallest <= MAX_GENERATED))
    found.errors.push({
      field: `${at}/${bin.step !== undefined ? 'step' : 'steps'}`,
      message: `needs a numeric bin extent with at most ${MAX_GENERATED} bins of this step (or use maxbins)`,
    });
}

/** Transforms that generate values of their own, beside the rows they read. */
function checkTransforms(transforms: unknown[], at: string, found: Found): void {
  transforms.forEach((transform, index) => {
    if (!isObject(transform)) return;
    if (Array.isArray(transform.fold)) found.fanOut *= Math.max(1, transform.fold.length);
    if (
      'quantile' in transform &&
      transform.step !== undefined &&
      !(Number(transform.step) >= 1 / MAX_GENERATED)
    )
      found.errors.push({ field: `${at}/${index}/step`, message: `must be at least 1/${MAX_GENERATED}` });
    if (
      'density' in transform &&
      transform.steps !== undefined &&
      !(Number(transform.steps) <= MAX_GENERATED)
    )
      found.errors.push({ field: `${at}/${index}/steps`, message: `must be at most ${MAX_GENERATED}` });
  });
}

/**
 * Refuses (400) a spec Vega-Lite would misread — unknown marks, encoding
 * types or aggregates — or one that uses refused expression functions, and
 * (413) one whose inline and generated rows exceed `maxRows`.
 */
export function assertRenderable(spec: ChartSpec, pointer: string, limits: SpecLimits): void {
  const found: Found = { errors: [], rows: 0, fanOut: 1 };
  // `logical`: inside a filter or test, where and/or/not compose expression strings.
  const queue: { value: object; pointer: string; context: Context; logical: boolean }[] = [
    { value: spec, pointer, context: 'spec', logical: false },
  ];
  for (let next = 0; next < queue.length; next += 1) {
    const node = queue[next]!;
    const isArray = Array.isArray(node.value);
    for (const [key, child] of Object.entries(node.value)) {
      const at = `${node.pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!isArray) checkNode(key, child, node.context, at, found);
      const composed = node.logical && (isArray || LOGICAL_KEYS.has(key));
      if (composed && typeof child === 'string') checkExpression(child, at, found);
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
        const logical = (!isArray && (key === 'filter' || key === 'test')) || composed;
        queue.push({ value: child as object, pointer: at, context, logical });
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
  const rows = found.rows * found.fanOut;
  if (rows > limits.maxRows)
    throw new AppError(
      'too_large',
      `The chart would draw from ${rows} rows (folds included); at most ${limits.maxRows} are rendered (VIZ_RENDER_MAX_ROWS). Aggregate or filter the data first.`,
      {
        errors: [{ field: pointer, message: `reads more than ${limits.maxRows} rows` }],
      },
    );
}
