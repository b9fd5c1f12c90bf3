import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The generated file's columns, with the type the data-service should infer and the SQL type it stores. */
export const COLUMNS = [
  { name: 'id', type: 'integer', sql: 'bigint' },
  { name: 'user_id', type: 'integer', sql: 'bigint' },
  { name: 'category', type: 'text', sql: 'text' },
  { name: 'amount', type: 'float', sql: 'double precision' },
  { name: 'score', type: 'float', sql: 'double precision' },
  { name: 'day', type: 'date', sql: 'date' },
  { name: 'active', type: 'boolean', sql: 'boolean' },
  { name: 'city', type: 'text', sql: 'text' },
  { name: 'quantity', type: 'integer', sql: 'bigint' },
  { name: 'note', type: 'text', sql: 'text' },
] as const;

const CATEGORIES = [
  'books',
  'garden',
  'games',
  'grocery',
  'health',
  'music',
  'office',
  'outdoor',
  'pets',
  'toys',
  'tools',
  'travel',
];
const CITIES = ['Lyon', 'Paris', 'Nantes', 'Lille', 'Porto', 'Köln', 'Zürich', 'Malmö', 'Oslo', 'Gent'];
const WORDS = ['red', 'blue', 'small', 'large', 'fast', 'gift', 'sale', 'new', 'used', 'boxed', 'café'];

/** mulberry32: a small, fixed-seed PRNG, so every run generates the same bytes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2020, 0, 1);

/**
 * `rows` rows of 10 columns (about 100 bytes each): integers, floats, text (some quoted, with
 * commas and non-ASCII letters), dates, booleans; about 1 % of scores and notes empty (null).
 */
export async function writeCsv(file: string, rows: number, seed = 42): Promise<number> {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const out = createWriteStream(file);
  const rowText = (id: number): string => {
    const words = Array.from({ length: 6 }, () => pick(WORDS));
    const note = next() < 0.01 ? '' : next() < 0.1 ? `"${words.join(', ')}"` : words.join(' ');
    return [
      id,
      1 + Math.floor(next() * 1_000_000),
      pick(CATEGORIES),
      (next() * 100_000).toFixed(2),
      next() < 0.01 ? '' : (next() * 100 - 50).toFixed(6),
      new Date(FIRST_DAY + Math.floor(next() * 1826) * DAY_MS).toISOString().slice(0, 10),
      next() < 0.5 ? 'true' : 'false',
      pick(CITIES),
      Math.floor(next() * 500),
      note,
    ].join(',');
  };
  let chunk = `${COLUMNS.map((column) => column.name).join(',')}\n`;
  for (let id = 1; id <= rows; id++) {
    chunk += `${rowText(id)}\n`;
    if (chunk.length >= 1 << 20 || id === rows) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
  return (await stat(file)).size;
}
