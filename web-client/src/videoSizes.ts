// Tells the SFU how large each remote video is shown (`video_sizes`), so it sends a fitting simulcast layer and
// nothing at all for videos that are not on screen (tiles on other grid pages, shares not selected).

import { MAX_VIDEO_SIZES, type VideoSize } from './protocol';
import type { Roster } from './roster';

/** What the layout shows: tile sizes by sid, and the selected screen share. */
export interface View {
  tiles: Readonly<Record<string, { width: number; height: number }>>;
  share: { sid: string; width: number; height: number } | null;
}

export const emptyView: View = { tiles: {}, share: null };

/** The size every remote video track should have for `view`. */
export function wantedSizes(roster: Roster, view: View): VideoSize[] {
  const out: VideoSize[] = [];
  for (const sid of roster.order) {
    const entry = roster.bySid[sid];
    if (!entry) continue;
    for (const [track_id, t] of Object.entries(entry.tracks)) {
      if (t.kind !== 'video') continue;
      let size = { width: 0, height: 0 };
      if (t.source === 'screen') {
        if (view.share?.sid === sid) size = view.share;
      } else {
        size = view.tiles[sid] ?? size;
      }
      out.push({ sid, track_id, width: Math.max(0, Math.round(size.width)), height: Math.max(0, Math.round(size.height)) });
    }
  }
  return out;
}

/** Remembers what was sent; yields only the changes, in messages of at most MAX_VIDEO_SIZES. */
export class VideoSizer {
  private sent = new Map<string, string>();

  /** The `video_sizes` batches to send now. */
  changes(roster: Roster, view: View): VideoSize[][] {
    const changed: VideoSize[] = [];
    const live = new Set<string>();
    for (const s of wantedSizes(roster, view)) {
      const key = `${s.sid}/${s.track_id}`;
      const value = `${s.width}x${s.height}`;
      live.add(key);
      if (this.sent.get(key) !== value) {
        this.sent.set(key, value);
        changed.push(s);
      }
    }
    for (const key of [...this.sent.keys()]) if (!live.has(key)) this.sent.delete(key);
    const batches: VideoSize[][] = [];
    for (let i = 0; i < changed.length; i += MAX_VIDEO_SIZES) batches.push(changed.slice(i, i + MAX_VIDEO_SIZES));
    return batches;
  }

  /** A new participant (clean rejoin): the SFU knows nothing yet. */
  reset(): void {
    this.sent.clear();
  }
}
