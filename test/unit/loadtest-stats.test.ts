import { describe, expect, it } from 'vitest';
import {
  histogram,
  niceStep,
  percentile,
  perSecond,
  summarize,
} from '../../lib/loadtest/stats.ts';

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

describe('percentile', () => {
  it('takes the nearest rank, always a value of the set', () => {
    // Assess
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect(percentile([10, 20, 30, 40], 100)).toBe(40);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 95)).toBe(95);
  });

  it('gives the smallest value for p 0 and the only value of one', () => {
    // Assess
    expect(percentile([5, 7], 0)).toBe(5);
    expect(percentile([42], 99)).toBe(42);
  });

  it('is undefined for an empty set', () => {
    // Assess
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('summarize', () => {
  it('sorts the latencies and orders p50 ≤ p95 ≤ p99 ≤ max', () => {
    // Prepare
    const shuffled = [...oneToHundred].reverse();

    // Act
    const summary = summarize(shuffled);

    // Assess
    expect(summary).toEqual({
      count: 100,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
      mean: 50.5,
    });
  });

  it('gives nulls for no latencies', () => {
    // Assess
    expect(summarize([])).toEqual({
      count: 0,
      p50: null,
      p95: null,
      p99: null,
      max: null,
      mean: null,
    });
  });
});

describe('perSecond', () => {
  it('counts instants per whole second from the start', () => {
    // Act
    const counts = perSecond([1000, 1500, 1999, 2000, 4100], 1000);

    // Assess
    expect(counts).toEqual([3, 1, 0, 1]);
  });

  it('counts instants before the start in the first second', () => {
    // Assess
    expect(perSecond([900, 1200], 1000)).toEqual([2]);
    expect(perSecond([], 1000)).toEqual([]);
  });
});

describe('histogram', () => {
  it('bins latencies in round widths from 0 ms', () => {
    // Act
    const result = histogram([0, 5, 12, 12, 95], 10);

    // Assess
    expect(result.binMs).toBe(10);
    expect(result.counts).toEqual([2, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(result.counts.reduce((a, b) => a + b)).toBe(5);
  });

  it('picks 1, 2 or 5 times a power of ten', () => {
    // Assess
    expect([0.3, 1, 3, 7, 11, 40, 130].map(niceStep)).toEqual([
      1, 1, 5, 10, 20, 50, 200,
    ]);
  });
});
