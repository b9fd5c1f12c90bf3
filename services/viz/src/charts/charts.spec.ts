import type { ProblemFieldError } from '@datalab/contracts';
import { AppError } from '@datalab/platform';

/** A Vega-Lite specification, as stored: a JSON object. */
export type ChartSpec = Record<string, unknown>;

/** Largest spec accepted, serialized: room for a chart's inline values, not for a dataset. */
export const MAX_SPEC_BYTES = 256 * 1024;

/**
 * Far deeper than any real Vega-Lite spec. It bounds the walk below and keeps
 * JSON.stringify (recursive in V8) from overflowing the stack on hostile input.
 */
export const MAX_SPEC_DEPTH = 64;

/** RFC 6901: a key's `~` and `/` are escaped in a JSON pointer. */
function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is ChartSpec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Node {
  value: object;
  pointer: string;
  depth: number;
}

/** Every `url` key in the spec, as JSON pointers below `pointer`; breadth-first, so no recursion. */
function urlKeys(spec: ChartSpec, pointer: string): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  const queue: Node[] = [{ value: spec, pointer, depth: 1 }];
  for (let next = 0; next < queue.length; next += 1) {
    const node = queue[next]!;
    if (node.depth > MAX_SPEC_DEPTH) {
      throw new AppError('invalid', `The chart spec nests deeper than ${MAX_SPEC_DEPTH} levels`, {
        errors: [{ field: node.pointer, message: `nests deeper than ${MAX_SPEC_DEPTH} levels` }],
      });
    }
    for (const [key, child] of Object.entries(node.value as Record<string, unknown>)) {
      const at = `${node.pointer}/${pointerSegment(key)}`;
      if (key === 'url' && !Array.isArray(node.value)) {
        errors.push({
          field: at,
          message: 'is not allowed: charts render without network access, so data goes inline (data.values)',
        });
      }
      if (typeof child === 'object' && child !== null)
        queue.push({ value: child, pointer: at, depth: node.depth + 1 });
    }
  }
  return errors;
}

/**
 * Refuses a spec that is not a JSON object, is larger than MAX_SPEC_BYTES, or
 * has a `url` key anywhere (data.url, an image mark's url): rendering must
 * never fetch from the network, so such a spec is refused before it is stored.
 * `pointer` is where the spec sits in the caller's input, e.g. `/body/spec`.
 */
export function assertValidSpec(spec: unknown, pointer: string): asserts spec is ChartSpec {
  if (!isObject(spec)) {
    throw new AppError('invalid', 'The chart spec must be a JSON object', {
      errors: [{ field: pointer, message: 'must be a JSON object' }],
    });
  }
  const urls = urlKeys(spec, pointer);
  if (urls.length > 0) {
    throw new AppError(
      'invalid',
      `The chart spec may not load anything by URL: ${urls.map((e) => e.field).join(', ')}`,
      {
        errors: urls,
      },
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(spec), 'utf8');
  if (bytes > MAX_SPEC_BYTES) {
    throw new AppError(
      'too_large',
      `The chart spec is ${bytes} bytes serialized; at most ${MAX_SPEC_BYTES} are accepted`,
      {
        errors: [{ field: pointer, message: `must be at most ${MAX_SPEC_BYTES} bytes serialized` }],
      },
    );
  }
}
