/**
 * Vega expressions a spec may carry, and the functions they may not call on the server. Vega
 * runs them in the render thread, and a few allocate in proportion to their arguments — a
 * `sequence(0, 1e9)` is a fatal allocation that ends the whole process, not just its thread — or
 * run a caller's regular expression.
 */

/** Keys whose string values are Vega expressions. */
export const EXPRESSION_KEYS = new Set([
  'calculate',
  'filter',
  'expr',
  'test',
  'update',
  'signal',
  'labelExpr',
]);

/** Keys of Vega-Lite's logical compositions: strings below them, inside a filter or test, are expressions too. */
export const LOGICAL_KEYS = new Set(['and', 'or', 'not']);

const REFUSED_FUNCTIONS = /\b(sequence|timeSequence|utcSequence|pad|regexp|test|replace|span)\s*\(/;

/**
 * An identifier may be spelled with escapes (`\u0073equence`), which Vega's parser reads as the
 * letters they stand for; so are they read here before looking for a refused name.
 */
function unescaped(expression: string): string {
  return expression.replace(
    /\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})/g,
    (_, braced?: string, plain?: string) => {
      const code = Number.parseInt(braced ?? plain ?? '', 16);
      return code <= 0x10ffff ? String.fromCodePoint(code) : '';
    },
  );
}

export function usesRefusedFunction(expression: string): boolean {
  return REFUSED_FUNCTIONS.test(unescaped(expression));
}

export const REFUSED_FUNCTIONS_MESSAGE =
  'uses an expression function that is not allowed in server-side renders (sequence, timeSequence, utcSequence, pad, span, regexp, test, replace)';

/** A label is never wider than this many characters; a d3-format width pads every label to it. */
export const MAX_FORMAT_WIDTH = 1000;

/** The width of a d3-format specifier (`[[fill]align][sign][symbol][0][width]…`), 0 when none. */
export function formatWidth(specifier: string): number {
  const width = /^(?:.?[<>=^])?[-+( ]?[$#]?0?(\d+)/.exec(specifier)?.[1];
  return width ? Number(width) : 0;
}

/** Format specifiers an expression hands to format(): the string literal after its first argument. */
export function formatCallWidths(expression: string): number[] {
  return [...unescaped(expression).matchAll(/format\s*\([^,]*,\s*(['"])(.*?)\1/g)].map((match) =>
    formatWidth(match[2] ?? ''),
  );
}
