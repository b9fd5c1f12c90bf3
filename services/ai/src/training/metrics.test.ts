import { describe, expect, it } from 'vitest';
import { classificationMetrics, regressionMetrics, rocAuc } from './metrics.ts';

describe('metrics', () => {
  it('computes accuracy and macro precision, recall, F1 as defined', () => {
    // class 0: tp 2, fp 1, fn 0 → p 2/3, r 1; class 1: tp 1, fp 0, fn 1 → p 1, r 1/2
    const m = classificationMetrics([0, 0, 1, 1], [0, 0, 0, 1], 2);
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBeCloseTo((2 / 3 + 1) / 2);
    expect(m.recall).toBeCloseTo((1 + 0.5) / 2);
    expect(m.f1).toBeCloseTo((0.8 + 2 / 3) / 2);
  });

  it('ROC AUC is the probability a positive outranks a negative, ties half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([0.5, 0.5], [false, true])).toBe(0.5);
    expect(rocAuc([0.5, 0.6], [true, true])).toBeNull();
  });

  it('RMSE, MAE and R² follow their definitions', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 2, 3, 6]);
    expect(m.rmse).toBeCloseTo(1);
    expect(m.mae).toBeCloseTo(0.5);
    expect(m.r2).toBeCloseTo(1 - 4 / 5);
  });
});
