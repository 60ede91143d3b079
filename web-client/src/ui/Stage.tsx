import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { bestLayout, pageCapacity, paginate } from '../layout';
import { useElementSize } from './useElementSize';
import { useT } from './i18nContext';
import { ChevronIcon } from './Icons';
import { ScreenShareView, type Share } from './ScreenShareView';
import type { LayoutMode } from './Controls';
import type { View } from '../videoSizes';

const GAP = 8;
/** Height of the strip of small tiles beside a focused tile or share, and their size (CSS px). */
const STRIP_HEIGHT = 120;
const STRIP_TILE = { width: 192, height: 108 };

/** A tile to place: 'self' for the own one, else a participant's sid. */
export interface StageTile {
  key: string;
  render: () => ReactElement;
}

export interface StageProps {
  tiles: readonly StageTile[];
  layout: LayoutMode;
  /** The large tile in speaker view: the pinned participant, or the active speaker. */
  focus: string | null;
  shares: readonly Share[];
  fullscreenRequest: number;
  /** What is on screen and how large (the SFU sends each video at that size, and nothing for hidden ones). */
  onView: (view: View) => void;
}

/** Where the tiles go: a paged grid, a speaker view (one large, the others in a strip), or a shared screen. */
export function Stage({ tiles, layout, focus, shares, fullscreenRequest, onView }: StageProps) {
  const t = useT();
  const ref = useRef<HTMLElement>(null);
  const size = useElementSize(ref);
  const [page, setPage] = useState(0);
  const [selectedShare, setSelectedShare] = useState<string | null>(null);
  const lastView = useRef('');

  const sharing = shares.length > 0;
  const mode: 'grid' | 'speaker' | 'share' = sharing ? 'share' : layout === 'speaker' && tiles.length > 1 ? 'speaker' : 'grid';
  const capacity = pageCapacity(size.width, size.height - 48, 16 / 9, GAP);
  const paged = paginate(tiles, capacity, page);

  const focused = useMemo(() => {
    if (mode !== 'speaker') return null;
    return tiles.find((x) => x.key === focus && x.key !== 'self') ?? tiles.find((x) => x.key !== 'self') ?? null;
  }, [mode, tiles, focus]);
  const strip = mode === 'grid' ? [] : tiles.filter((x) => x !== focused);

  const layoutBox = bestLayout(paged.items.length, size.width, size.height - (paged.pages > 1 ? 48 : 0), 16 / 9, GAP);
  const sizes: Record<string, { width: number; height: number }> = {};
  const view: View = { tiles: sizes, share: null };
  const mainSize = { width: size.width, height: Math.max(0, size.height - (strip.length ? STRIP_HEIGHT : 0)) };
  if (mode === 'grid') {
    for (const x of paged.items) sizes[x.key] = { width: layoutBox.tileWidth, height: layoutBox.tileHeight };
  } else {
    for (const x of strip) sizes[x.key] = STRIP_TILE;
    if (focused) sizes[focused.key] = mainSize;
    const share = shares.find((x) => x.sid === selectedShare) ?? shares[0];
    if (mode === 'share' && share && !share.own) view.share = { sid: share.sid, ...mainSize };
  }
  delete sizes.self;
  useEffect(() => {
    const key = JSON.stringify(view);
    if (key !== lastView.current) {
      lastView.current = key;
      onView(view);
    }
  });

  if (mode === 'grid') {
    return (
      <section className="stage" ref={ref} aria-label={t.layoutGrid}>
        <div
          className="grid"
          style={{ gap: GAP, gridTemplateColumns: `repeat(${layoutBox.cols}, ${layoutBox.tileWidth}px)`, gridAutoRows: `${layoutBox.tileHeight}px` }}
        >
          {paged.items.map((x) => (
            <div key={x.key} className="cell">
              {x.render()}
            </div>
          ))}
        </div>
        {paged.pages > 1 && (
          <nav className="pager" aria-label={t.pagesLabel}>
            <button type="button" className="icon-button" aria-label={t.prevPage} disabled={paged.page === 0} onClick={() => setPage(paged.page - 1)}>
              <ChevronIcon left />
            </button>
            <span aria-live="polite" data-testid="page-label">
              {t.page(paged.page + 1, paged.pages)}
            </span>
            <button type="button" className="icon-button" aria-label={t.nextPage} disabled={paged.page >= paged.pages - 1} onClick={() => setPage(paged.page + 1)}>
              <ChevronIcon />
            </button>
          </nav>
        )}
      </section>
    );
  }

  return (
    <section className={`stage stage-${mode}`} ref={ref} aria-label={mode === 'share' ? t.sharesLabel : t.layoutSpeaker}>
      <div className="main-area">
        {mode === 'share' ? (
          <ScreenShareView shares={shares} selected={selectedShare} onSelect={setSelectedShare} fullscreenRequest={fullscreenRequest} />
        ) : (
          focused && <div className="focus-tile">{focused.render()}</div>
        )}
      </div>
      {strip.length > 0 && (
        <div className="strip" role="list" aria-label={t.videoStripLabel}>
          {strip.map((x) => (
            <div key={x.key} className="strip-cell" role="listitem">
              {x.render()}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
