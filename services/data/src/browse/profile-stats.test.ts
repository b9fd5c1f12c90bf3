import { describe, expect, it } from 'vitest';
import { estimateDistinct, scaleCounts } from './profile-stats.ts';

describe('estimating distinct values from a sample', () => {
  it('takes the sample at its word when it is the whole column', () => {
    expect(estimateDistinct({ values: 1000, distinct: 37, singles: 5 }, 1000)).toBe(37);
  });

  it('expects every value to be unique when every sampled value was', () => {
    expect(estimateDistinct({ values: 500, distinct: 500, singles: 500 }, 100_000)).toBe(100_000);
  });

  it('expects no unseen values when every sampled value repeated', () => {
    expect(estimateDistinct({ values: 5000, distinct: 12, singles: 0 }, 1_000_000)).toBe(12);
  });

  it('never answers fewer than the sample saw or more than there are values', () => {
    const estimate = estimateDistinct({ values: 100, distinct: 60, singles: 30 }, 150);
    expect(estimate).toBeGreaterThanOrEqual(60);
    expect(estimate).toBeLessThanOrEqual(150);
  });
});

describe('scaling sample counts to the table', () => {
  it('keeps the proportions and adds up to the total exactly', () => {
    const scaled = scaleCounts([1, 1, 1], 10);
    expect(scaled.reduce((a, b) => a + b, 0)).toBe(10);
    expect(scaled.toSorted()).toEqual([3, 3, 4]);
    expect(scaleCounts([2, 0, 6], 300)).toEqual([75, 0, 225]);
  });

  it('leaves empty bins empty', () => {
    expect(scaleCounts([0, 0], 10)).toEqual([0, 0]);
  });
});
