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

const REFUSED_FUNCTIONS = /\b(sequence|pad|regexp|test|replace|span)\s*\(/;

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
  'uses an expression function that is not allowed in server-side renders (sequence, pad, span, regexp, test, replace)';
