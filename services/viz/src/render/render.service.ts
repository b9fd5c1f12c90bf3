import { AppError, type Principal } from '@datalab/platform';
import { compileBuilder } from '../builder/builder.compile.ts';
import type { ChartBuilder } from '../builder/builder.schemas.ts';
import { assertValidSpec, type ChartSpec } from '../charts/charts.spec.ts';
import type { VizConfig } from '../config.ts';
import type { DataClient } from '../data/data.client.ts';
import { etagOf, matchesIfNoneMatch, renderKey, type RenderCache } from './render.cache.ts';
import { resolveData, type ResolvedData } from './render.data.ts';
import { forPicture, sized, type SvgChart } from './render.engine.ts';
import { assertRenderable } from './render.limits.ts';
import type { RenderMetrics } from './render.metrics.ts';
import { CONTENT_TYPES, type ImageFormat, type OutputSize } from './render.output.ts';
import type { RenderPool } from './render.pool.ts';
import type { RenderFormat } from './render.schemas.ts';
import { inferFieldTypes } from './render.types.ts';

export interface RenderOptions {
  format: RenderFormat;
  width?: number | undefined;
  height?: number | undefined;
  scale: number;
  ifNoneMatch?: string | undefined;
}

export interface RenderResult {
  status: 200 | 304;
  etag: string;
  contentType: string;
  body: Buffer | undefined;
  cache: 'hit' | 'miss' | 'not_modified';
}

export interface Prepared {
  spec: ChartSpec;
  resolved: ResolvedData;
  pointer: string;
}

export interface RenderDeps {
  data: DataClient;
  pool: RenderPool;
  cache: RenderCache;
  metrics: RenderMetrics;
  config: VizConfig;
}

/** What a render is asked for: a Vega-Lite spec or a chart-builder description, and where it sits in the request. */
export type RenderInput = { spec: unknown; pointer: string } | { chart: ChartBuilder; pointer: string };

/** An SVG keeps its marks' ARIA attributes; a picture drawn from it has no use for them. */
function drawnFor(format: ImageFormat, spec: ChartSpec): ChartSpec {
  return format === 'svg' ? spec : forPicture(spec);
}

export function createRenderService(deps: RenderDeps) {
  const { config, metrics } = deps;
  const limits = { maxMarks: config.renderMaxMarks, timeoutMs: config.renderTimeoutMs };

  function assertPixels(options: RenderOptions): void {
    if (options.width === undefined || options.height === undefined) return;
    const pixels = Math.round(options.width * options.scale) * Math.round(options.height * options.scale);
    if (pixels > config.renderMaxPixels)
      throw new AppError(
        'too_large',
        `The image would have ${pixels} pixels; at most ${config.renderMaxPixels} are rendered (VIZ_RENDER_MAX_PIXELS)`,
        {
          extensions: { limit: 'VIZ_RENDER_MAX_PIXELS', limit_pixels: config.renderMaxPixels },
          errors: [
            {
              field: '/querystring',
              message: `width × height × scale² must be at most ${config.renderMaxPixels}`,
            },
          ],
        },
      );
  }

  /**
   * Frozen specs that passed the checks: a saved chart remembered in memory is one frozen object
   * (memory/event-memory.ts), rendered again and again, and the same object is the same spec.
   */
  const checked = new WeakSet<object>();

  /** The checked Vega-Lite spec of either kind of input. */
  function specOf(input: RenderInput): ChartSpec {
    const spec = 'chart' in input ? compileBuilder(input.chart) : input.spec;
    if (typeof spec === 'object' && spec !== null && checked.has(spec)) return spec as ChartSpec;
    assertValidSpec(spec, input.pointer);
    assertRenderable(spec, input.pointer, { maxRows: config.renderMaxRows });
    if (Object.isFrozen(spec)) checked.add(spec);
    return spec;
  }

  /** The checked spec and its data sources, resolved as the caller (versions known, rows not yet read). */
  async function prepare(principal: Principal, input: RenderInput): Promise<Prepared> {
    const spec = specOf(input);
    const resolved = await resolveData(
      { data: deps.data, maxRows: config.renderMaxRows },
      principal,
      spec,
      input.pointer,
    );
    return { spec, resolved, pointer: input.pointer };
  }

  /** The spec with its rows read in, within the rendering limits. */
  async function inlinedSpec(prepared: Prepared): Promise<ChartSpec> {
    const inlined = inferFieldTypes(await prepared.resolved.inline());
    assertRenderable(inlined, prepared.pointer, { maxRows: config.renderMaxRows });
    return inlined;
  }

  /**
   * Reads the rows and draws the chart as SVG at its own size, or filling width × height, for an
   * output in `format`.
   */
  async function draw(
    prepared: Prepared,
    format: ImageFormat,
    width?: number,
    height?: number,
  ): Promise<SvgChart> {
    const inlined = await inlinedSpec(prepared);
    const reply = await deps.pool.run({
      kind: 'svg',
      spec: drawnFor(format, sized(inlined, width, height)),
      pointer: prepared.pointer,
      limits,
    });
    return reply.chart!;
  }

  /** An SVG drawn here (a dashboard) in an image format, in a render thread. */
  async function encodeSvg(chart: SvgChart, format: ImageFormat, size: OutputSize): Promise<Buffer> {
    const reply = await deps.pool.run({
      kind: 'encode',
      chart,
      format,
      size,
      maxPixels: config.renderMaxPixels,
    });
    return Buffer.from(reply.bytes!);
  }

  /**
   * Renders under way, by key. A request that misses while the same render is being drawn waits
   * for that one instead of drawing it again: when a chart's dataset gets a new version, every
   * viewer's next call misses at once, and without this each would queue its own render.
   */
  const producing = new Map<string, Promise<Buffer>>();

  function produceOnce(key: string, format: RenderFormat, produce: () => Promise<Buffer>): Promise<Buffer> {
    const running = producing.get(key);
    if (running) return running;
    const made = (async () => {
      try {
        const done = metrics.start(format);
        const body = await produce();
        done();
        await deps.cache.set(key, body);
        return body;
      } finally {
        producing.delete(key);
      }
    })();
    producing.set(key, made);
    return made;
  }

  /**
   * Answers 304, or the cached bytes, or what `produce` makes (then cached):
   * in that order, so the cheapest answer that is right wins.
   */
  async function respond(
    key: string,
    options: RenderOptions,
    produce: () => Promise<Buffer>,
  ): Promise<RenderResult> {
    const etag = etagOf(key);
    const contentType = CONTENT_TYPES[options.format];
    if (matchesIfNoneMatch(options.ifNoneMatch, etag)) {
      metrics.cacheLookup('not_modified');
      return { status: 304, etag, contentType, body: undefined, cache: 'not_modified' };
    }
    const cached = await deps.cache.get(key);
    metrics.cacheLookup(cached ? 'hit' : 'miss');
    if (cached) return { status: 200, etag, contentType, body: cached, cache: 'hit' };
    const body = await produceOnce(key, options.format, produce);
    return { status: 200, etag, contentType, body, cache: 'miss' };
  }

  async function render(
    principal: Principal,
    input: RenderInput,
    options: RenderOptions,
  ): Promise<RenderResult> {
    assertPixels(options);
    const prepared = await prepare(principal, input);
    const { format, width, height, scale } = options;
    const key = renderKey({
      spec: prepared.spec,
      data: prepared.resolved.versions,
      format,
      width,
      height,
      scale,
    });
    return respond(key, options, async () => {
      const inlined = await inlinedSpec(prepared);
      if (format === 'json') return Buffer.from(JSON.stringify(sized(inlined, width, height)), 'utf8');
      const reply = await deps.pool.run({
        kind: 'chart',
        spec: drawnFor(format, sized(inlined, width, height)),
        pointer: prepared.pointer,
        format,
        size: { width, height, scale },
        limits,
        maxPixels: config.renderMaxPixels,
      });
      return Buffer.from(reply.bytes!);
    });
  }

  return { render, prepare, draw, encodeSvg, respond, assertPixels };
}

export type RenderService = ReturnType<typeof createRenderService>;
