import { describe, expect, it } from 'vitest';
import { median, perSecond, ratio, round } from '../../bench/stats.ts';

describe('bench statistics', () => {
  it('takes the middle value of an odd sample, whatever its order', () => {
    // Act
    const middle = median([9, 1, 5]);

    // Assess
    expect(middle).toBe(5);
  });

  it('averages the two middle values of an even sample', () => {
    // Prepare
    const sample = [4, 1, 3, 2];

    // Act
    const middle = median(sample);

    // Assess
    expect(middle).toBe(2.5);
    expect(sample).toEqual([4, 1, 3, 2]);
  });

  it('throws on an empty sample rather than report a figure', () => {
    expect(() => median([])).toThrow(/no values/);
  });

  it('gives NaN for a ratio over zero, so the gap shows', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
  });

  it('rounds to significant digits and counts events per second', () => {
    expect(round(2819.935, 3)).toBe(2820);
    expect(round(0.0123456, 2)).toBe(0.012);
    expect(perSecond(1_500, 3_000)).toBe(500);
  });
});
