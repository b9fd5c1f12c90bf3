import type { FieldSpec } from '../models/models.schemas.ts';

/** How one input column becomes model inputs, learned from the training rows and stored with the model. */
export type FeatureEncoding =
  | { name: string; kind: 'number'; fill: number }
  | { name: string; kind: 'category'; fill: string; categories: string[] };

/** Categories beyond this many most frequent ones share the all-zero encoding of an unseen value. */
const MAX_CATEGORIES = 100;
const NUMERIC_TYPES = new Set(['integer', 'float']);

function numberOf(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : null;
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Numeric columns: missing values filled with the training mean. Other
 * columns: one-hot over the training categories, missing filled with the most
 * frequent one; a value never seen in training encodes as all zeros.
 */
export function learnEncodings(
  rows: readonly Record<string, unknown>[],
  features: readonly { name: string; type: string }[],
): FeatureEncoding[] {
  return features.map(({ name, type }) => {
    if (NUMERIC_TYPES.has(type)) {
      let sum = 0;
      let count = 0;
      for (const row of rows) {
        const value = numberOf(row[name]);
        if (value !== null) {
          sum += value;
          count += 1;
        }
      }
      return { name, kind: 'number', fill: count === 0 ? 0 : sum / count };
    }
    const counts = new Map<string, number>();
    for (const row of rows) {
      const value = textOf(row[name]);
      if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const byFrequency = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return {
      name,
      kind: 'category',
      fill: byFrequency[0]?.[0] ?? '',
      categories: byFrequency
        .slice(0, MAX_CATEGORIES)
        .map(([value]) => value)
        .sort(),
    };
  });
}

/** One row as the numbers the algorithm sees, exactly as in training. */
export function encodeRow(encodings: readonly FeatureEncoding[], row: Record<string, unknown>): number[] {
  const out: number[] = [];
  for (const encoding of encodings) {
    if (encoding.kind === 'number') {
      out.push(numberOf(row[encoding.name]) ?? encoding.fill);
    } else {
      const value = textOf(row[encoding.name]) ?? encoding.fill;
      for (const category of encoding.categories) out.push(category === value ? 1 : 0);
    }
  }
  return out;
}

/** Which original feature each encoded column came from. */
export function encodedOwners(encodings: readonly FeatureEncoding[]): number[] {
  return encodings.flatMap((encoding, i) =>
    encoding.kind === 'number' ? [i] : encoding.categories.map(() => i),
  );
}

export function inputFields(encodings: readonly FeatureEncoding[]): FieldSpec[] {
  return encodings.map((encoding) =>
    encoding.kind === 'number'
      ? { name: encoding.name, type: 'number', nullable: true }
      : { name: encoding.name, type: 'string', nullable: true, categories: encoding.categories },
  );
}
