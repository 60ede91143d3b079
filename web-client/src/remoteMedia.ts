// The tracks received from the SFU, grouped per participant into the camera+microphone stream (tile, audio) and
// the screen-share stream. Stream objects are reused while their tracks stay the same, so media elements keep
// playing across unrelated updates.

import type { TrackSource } from './protocol';
import { sourceOf, type Roster } from './roster';

export interface ParticipantMedia {
  /** Camera video and microphone audio. */
  main: MediaStream | null;
  /** Shared screen (and its audio, if any). */
  screen: MediaStream | null;
}

interface Received {
  track: MediaStreamTrack;
  trackId: string | null;
}

type MakeStream = (tracks: MediaStreamTrack[]) => MediaStream;
const browserStream: MakeStream = (tracks) => new MediaStream(tracks);

function sameTracks(stream: MediaStream | null, tracks: MediaStreamTrack[]): boolean {
  if (!stream) return tracks.length === 0;
  const have = stream.getTracks();
  return have.length === tracks.length && tracks.every((t) => have.includes(t));
}

export class RemoteMedia {
  /** sid → received track id → track. */
  private received = new Map<string, Map<string, Received>>();
  private current = new Map<string, ParticipantMedia>();

  constructor(private readonly makeStream: MakeStream = browserStream) {}

  /** A track arrived (ontrack). */
  add(sid: string, trackId: string | null, track: MediaStreamTrack): void {
    let tracks = this.received.get(sid);
    if (!tracks) this.received.set(sid, (tracks = new Map()));
    tracks.set(track.id, { track, trackId });
  }

  /** The publisher stopped publishing `trackId`. */
  dropTrack(sid: string, trackId: string): void {
    const tracks = this.received.get(sid);
    if (!tracks) return;
    for (const [key, r] of tracks) if (r.trackId === trackId) tracks.delete(key);
  }

  removeParticipant(sid: string): void {
    this.received.delete(sid);
    if (this.current.has(sid)) {
      this.current = new Map(this.current);
      this.current.delete(sid);
    }
  }

  clear(): void {
    this.received.clear();
    this.current = new Map();
  }

  /** Which participant and source a received track (by its id, e.g. a stats `trackIdentifier`) belongs to. */
  owner(receivedTrackId: string, roster: Roster): { sid: string; source: TrackSource } | null {
    for (const [sid, tracks] of this.received) {
      const r = tracks.get(receivedTrackId);
      if (r) return { sid, source: this.sourceOf(sid, r, roster) };
    }
    return null;
  }

  /** The streams per participant for `roster`; the same map object when nothing changed. */
  compute(roster: Roster): ReadonlyMap<string, ParticipantMedia> {
    let changed = false;
    const next = new Map<string, ParticipantMedia>();
    for (const [sid, tracks] of this.received) {
      const main: MediaStreamTrack[] = [];
      const screen: MediaStreamTrack[] = [];
      for (const r of tracks.values()) {
        if (r.track.readyState === 'ended') continue;
        const source = this.sourceOf(sid, r, roster);
        (source === 'screen' || source === 'screen_audio' ? screen : main).push(r.track);
      }
      const old = this.current.get(sid) ?? { main: null, screen: null };
      const media: ParticipantMedia = {
        main: sameTracks(old.main, main) ? old.main : main.length ? this.makeStream(main) : null,
        screen: sameTracks(old.screen, screen) ? old.screen : screen.length ? this.makeStream(screen) : null,
      };
      if (media.main !== old.main || media.screen !== old.screen || !this.current.has(sid)) changed = true;
      next.set(sid, media.main === old.main && media.screen === old.screen ? old : media);
    }
    if (next.size !== this.current.size) changed = true;
    if (changed) this.current = next;
    return this.current;
  }

  private sourceOf(sid: string, r: Received, roster: Roster): TrackSource {
    const known = r.trackId !== null ? sourceOf(roster, sid, r.trackId) : null;
    return known ?? (r.track.kind === 'audio' ? 'microphone' : 'camera');
  }
}
