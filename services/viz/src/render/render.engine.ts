import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';

/**
 * Vega-Lite → Vega → SVG, in this process and without a canvas: Vega's
 * string renderer measures text by estimate, so the same spec gives the same
 * SVG on every machine.
 */

export interface EngineLimits {
  maxMarks: number;
  timeoutMs: number;
}

export interface SvgChart {
  svg: string;
  /** The chart's own size, in SVG user units (CSS pixels). */
  width: number;
  height: number;
}

/**
 * A loader that refuses everything: no URL, no file, no sanitize (which is
 * what image marks call before fetching). Data reaches the renderer inline
 * only. Vega logs a failed load and draws on without the data, so each
 * attempt is also recorded, and a render that tried is refused.
 */
export function refusingLoader(attempts: string[]): vega.Loader {
  const refuse = (what: string) => (uri: unknown) => {
    attempts.push(
      String(typeof uri === 'object' && uri !== null && 'url' in uri ? uri.url : uri).slice(0, 200),
    );
    return Promise.reject(new Error(`${what} is disabled: server-side renders load nothing`));
  };
  return {
    load: refuse('Loading data'),
    sanitize: refuse('Loading images'),
    http: refuse('Network access'),
    file: refuse('File access'),
  };
}

/** Unit specs only: a composed view (facet, concat, repeat) keeps its own layout. */
const COMPOSED = ['facet', 'hconcat', 'vconcat', 'concat', 'repeat'];

/** Makes a single view fill exactly `width` × `height`, axes and legends included. */
export function sized(spec: ChartSpec, width: number | undefined, height: number | undefined): ChartSpec {
  if (width === undefined && height === undefined) return spec;
  const encoding = (spec.encoding ?? {}) as Record<string, unknown>;
  if (COMPOSED.some((key) => key in spec) || 'row' in encoding || 'column' in encoding || 'facet' in encoding)
    return spec;
  return {
    ...spec,
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    autosize: { type: 'fit', contains: 'padding' },
  };
}

/**
 * The spec for a picture (PNG, WebP, AVIF, PDF): Vega writes ARIA attributes on every mark, a
 * description built per point among them, which no picture shows. Leaving them out saves about a
 * third of Vega's time on a 1,000-point scatter; an SVG keeps them for screen readers.
 */
export function forPicture(spec: ChartSpec): ChartSpec {
  return { ...spec, config: { ...(spec.config as object | undefined), aria: false } };
}

function compileToVega(spec: ChartSpec, pointer: string): vega.Spec {
  try {
    return compile(spec as unknown as TopLevelSpec, { logger: quietLogger }).spec;
  } catch (error) {
    throw new AppError('invalid', `The chart spec is not valid Vega-Lite: ${(error as Error).message}`, {
      errors: [{ field: pointer, message: (error as Error).message }],
      cause: error,
    });
  }
}

const quietLogger = {
  level: () => quietLogger,
  error: () => quietLogger,
  warn: () => quietLogger,
  info: () => quietLogger,
  debug: () => quietLogger,
};

interface SceneItem {
  marktype?: string;
  items?: SceneItem[];
  url?: unknown;
  href?: unknown;
  opacity?: number;
}

/**
 * Takes out what paints nothing: Vega hides overlapping axis labels by giving them opacity 0 yet
 * still writes them, and each costs resvg a text layout (a quarter of a scatter's labels).
 */
function dropInvisible(node: SceneItem): void {
  if (!node.items) return;
  node.items = node.items.filter((item) => item.opacity !== 0);
  for (const item of node.items) dropInvisible(item);
}

/** Counts the items drawn and refuses images that are not inline data and links that are not http(s). */
function inspectScene(root: SceneItem, maxMarks: number): void {
  let count = 0;
  const stack: SceneItem[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    count += 1;
    if (count > maxMarks)
      throw new AppError(
        'too_large',
        `The chart draws more than ${maxMarks} marks; aggregate or sample the data first`,
        {
          errors: [{ field: '/body/spec', message: `draws more than ${maxMarks} marks` }],
        },
      );
    if (node.marktype === 'image') for (const item of node.items ?? []) assertInlineImage(item.url);
    if (
      node.href !== undefined &&
      node.href !== null &&
      (typeof node.href !== 'string' || !/^https?:\/\//i.test(node.href))
    )
      throw new AppError('invalid', 'A mark links to something other than an http(s) address', {
        errors: [{ field: '/body/spec', message: 'href must be an http(s) address' }],
      });
    for (const item of node.items ?? []) stack.push(item);
  }
}

function assertInlineImage(url: unknown): void {
  if (url === undefined || url === null || url === '') return;
  if (typeof url === 'string' && /^data:image\/(png|jpeg|gif|webp);base64,/i.test(url)) return;
  throw new AppError(
    'invalid',
    'An image mark refers to an external address; only inline data: images are drawn',
    {
      errors: [
        {
          field: '/body/spec',
          message: `image ${typeof url === 'string' ? url.slice(0, 100) : typeof url} is not an inline data: image`,
        },
      ],
    },
  );
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new AppError('unavailable', `The render took longer than ${timeoutMs} ms and was stopped`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Compiles a Vega-Lite spec (data already inline) to Vega, for the `json` format's companions and tests. */
export function toVega(spec: ChartSpec, pointer = '/body/spec'): vega.Spec {
  return compileToVega(spec, pointer);
}

export async function renderSvg(
  spec: ChartSpec,
  limits: EngineLimits,
  pointer = '/body/spec',
): Promise<SvgChart> {
  const compiled = compileToVega(spec, pointer);
  let runtime: vega.Runtime;
  try {
    runtime = vega.parse(compiled);
  } catch (error) {
    throw new AppError('invalid', `The chart spec does not compile: ${(error as Error).message}`, {
      errors: [{ field: pointer, message: (error as Error).message }],
    });
  }
  const attempts: string[] = [];
  const view = new vega.View(runtime, {
    renderer: 'none',
    loader: refusingLoader(attempts),
    logLevel: vega.None,
  });
  try {
    await withTimeout(view.runAsync(), limits.timeoutMs, () => view.finalize());
    if (attempts.length > 0)
      throw new AppError(
        'invalid',
        `The chart tried to load ${attempts[0]}; renders load nothing, data goes inline`,
        {
          errors: [{ field: pointer, message: `loads ${attempts[0]}` }],
        },
      );
    const scene = (view.scenegraph() as unknown as { root: SceneItem }).root;
    inspectScene(scene, limits.maxMarks);
    dropInvisible(scene);
    const svg = await view.toSVG();
    const size = /^<svg[^>]*?\swidth="([\d.]+)"[^>]*?\sheight="([\d.]+)"/.exec(svg);
    return { svg, width: Number(size?.[1] ?? view.width()), height: Number(size?.[2] ?? view.height()) };
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('invalid', `The chart spec failed to render: ${(error as Error).message}`, {
      errors: [{ field: pointer, message: (error as Error).message }],
      cause: error,
    });
  } finally {
    view.finalize();
  }
}
