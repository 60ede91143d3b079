// Tile grid layout: how many columns make the tiles (at a fixed aspect ratio) as large as possible.

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
