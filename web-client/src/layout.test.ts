import { describe, expect, it } from 'vitest';
import { bestLayout } from './layout';

describe('grid layout', () => {
  it('gives one tile the whole box, limited by the height on a wide screen', () => {
    expect(bestLayout(1, 1600, 450, 16 / 9, 0)).toEqual({ cols: 1, rows: 1, tileWidth: 800, tileHeight: 450 });
  });

  it('puts two tiles side by side on a wide screen and stacks them on a tall one', () => {
    expect(bestLayout(2, 1280, 600, 16 / 9, 8).cols).toBe(2);
    expect(bestLayout(2, 400, 800, 16 / 9, 8).cols).toBe(1);
  });

  it('makes a 3x3 grid of nine tiles in a 16:9 box', () => {
    const l = bestLayout(9, 1600, 900, 16 / 9, 0);
    expect([l.cols, l.rows]).toEqual([3, 3]);
    expect(l.tileWidth).toBe(533);
  });

  it('always fits inside the box', () => {
    for (const n of [1, 2, 3, 5, 7, 12, 25]) {
      for (const [w, h] of [[1280, 700], [360, 640], [1920, 500]] as const) {
        const l = bestLayout(n, w, h, 16 / 9, 8, 0);
        expect(l.cols * l.tileWidth + (l.cols - 1) * 8, `${n} in ${w}x${h}`).toBeLessThanOrEqual(w);
        expect(l.rows * l.tileHeight + (l.rows - 1) * 8, `${n} in ${w}x${h}`).toBeLessThanOrEqual(h);
        expect(l.cols * l.rows).toBeGreaterThanOrEqual(n);
      }
    }
  });

  it('keeps a minimum tile size in a tiny box (the grid scrolls)', () => {
    const l = bestLayout(30, 400, 300, 16 / 9, 8, 160);
    expect(l.tileWidth).toBeGreaterThanOrEqual(160);
    expect(l.cols).toBe(2);
    expect(l.rows).toBe(15);
  });

  it('survives an unmeasured (zero) box', () => {
    const l = bestLayout(3, 0, 0);
    expect(l.cols).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(l.tileWidth)).toBe(true);
  });
});

describe('grid pages', () => {
  it('fit as many tiles as the box holds at a useful size', async () => {
    const { pageCapacity, MAX_PAGE_TILES } = await import('./layout');
    expect(pageCapacity(1280, 700)).toBeGreaterThanOrEqual(9);
    expect(pageCapacity(1280, 700)).toBeLessThanOrEqual(MAX_PAGE_TILES);
    expect(pageCapacity(360, 560)).toBeLessThanOrEqual(6);
    expect(pageCapacity(100, 50)).toBe(1);
    expect(pageCapacity(0, 0)).toBe(4);
    expect(pageCapacity(10_000, 10_000)).toBe(MAX_PAGE_TILES);
  });

  it('keep the own tile on every page and clamp the page number', async () => {
    const { paginate } = await import('./layout');
    const items = ['self', 'a', 'b', 'c', 'd', 'e', 'f'];
    expect(paginate(items, 10, 3)).toEqual({ items, page: 0, pages: 1 });
    expect(paginate(items, 3, 0)).toEqual({ items: ['self', 'a', 'b'], page: 0, pages: 3 });
    expect(paginate(items, 3, 2)).toEqual({ items: ['self', 'e', 'f'], page: 2, pages: 3 });
    expect(paginate(items, 3, 9).page).toBe(2);
    expect(paginate(items, 1, 0).items).toEqual(['self', 'a']);
  });
});
