// Tile layouts: how many columns make the tiles (at a fixed aspect ratio) as large as possible, how many tiles fit
// on a grid page, and which tiles a page shows.

export interface GridLayout {
  cols: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The layout of `n` tiles of aspect `aspect` (width/height) in a `width` x `height` box with `gap` pixels
 * between tiles that gives the largest tiles. Tiles never get smaller than `minWidth` (the box then scrolls).
 */
export function bestLayout(n: number, width: number, height: number, aspect = 16 / 9, gap = 8, minWidth = 160): GridLayout {
  const count = Math.max(1, n);
  let best: GridLayout = { cols: 1, rows: count, tileWidth: 0, tileHeight: 0 };
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const maxW = (width - gap * (cols - 1)) / cols;
    const maxH = (height - gap * (rows - 1)) / rows;
    if (maxW <= 0 || maxH <= 0) continue;
    const tileWidth = Math.min(maxW, maxH * aspect);
    if (tileWidth > best.tileWidth) best = { cols, rows, tileWidth, tileHeight: tileWidth / aspect };
  }
  if (best.tileWidth < minWidth) {
    // Too small to be useful: as many columns of minWidth tiles as fit, and let the grid scroll.
    const cols = Math.max(1, Math.min(count, Math.floor((width + gap) / (minWidth + gap))));
    const tileWidth = Math.max(minWidth, Math.min(width, (width - gap * (cols - 1)) / cols));
    best = { cols, rows: Math.ceil(count / cols), tileWidth, tileHeight: tileWidth / aspect };
  }
  return { ...best, tileWidth: Math.floor(best.tileWidth), tileHeight: Math.floor(best.tileHeight) };
}

/** Most tiles on one grid page. */
export const MAX_PAGE_TILES = 25;

/**
 * How many tiles a grid page shows in a `width` x `height` box: as many as fit at `minWidth` or more (at least
 * 1, at most MAX_PAGE_TILES).
 */
export function pageCapacity(width: number, height: number, aspect = 16 / 9, gap = 8, minWidth = 180): number {
  if (width <= 0 || height <= 0) return 4;
  const cols = Math.max(1, Math.floor((width + gap) / (minWidth + gap)));
  const rows = Math.max(1, Math.floor((height + gap) / (minWidth / aspect + gap)));
  return Math.max(1, Math.min(MAX_PAGE_TILES, cols * rows));
}

export interface Page<T> {
  items: T[];
  page: number;
  pages: number;
}

/**
 * Page `page` (0-based, clamped) of `items` with `capacity` per page. The first item (the own tile) is repeated
 * on every page, so people always see themselves.
 */
export function paginate<T>(items: readonly T[], capacity: number, page: number): Page<T> {
  const cap = Math.max(2, capacity);
  if (items.length <= cap) return { items: [...items], page: 0, pages: 1 };
  const [first, ...rest] = items;
  const per = cap - 1;
  const pages = Math.ceil(rest.length / per);
  const p = Math.min(Math.max(0, page), pages - 1);
  return { items: [first, ...rest.slice(p * per, p * per + per)], page: p, pages };
}
