import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';

describe('a batcher', () => {
  it('sends the first call alone and the calls made meanwhile together, answering each its own', async () => {
    const batches: number[][] = [];
    const double = createBatcher(async (items: number[]) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return items.map((n) => n * 2);
    }, 100);
    const first = double(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rest = [2, 3, 4].map((n) => double(n));
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('splits at the largest size, and a failed batch fails only its own calls', async () => {
    const batches: string[][] = [];
    const check = createBatcher(async (items: string[]) => {
      batches.push(items);
      if (items.includes('bad')) throw new Error('database away');
      return items.map((item) => item.toUpperCase());
    }, 2);
    const answers = await Promise.allSettled(['a', 'bad', 'c'].map((item) => check(item)));
    expect(batches).toEqual([['a', 'bad'], ['c']]);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(answers[2]).toEqual({ status: 'fulfilled', value: 'C' });
  });
});
