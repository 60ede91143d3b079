// The room as the client knows it: the other participants and their tracks, updated by server messages.
// Pure functions returning new objects, so the UI can compare by reference.

import type { Participant, RoomState, ServerMessage, TrackKind, TrackRef, TrackSource } from './protocol';

export interface RosterTrack {
  kind: TrackKind;
  source: TrackSource;
}

export interface RosterEntry extends Participant {
  /** Published tracks by track_id. */
  tracks: Readonly<Record<string, RosterTrack>>;
}

export interface Roster {
  selfSid: string | null;
  /** Sids of the other participants, in the order they appeared. */
  order: readonly string[];
  bySid: Readonly<Record<string, RosterEntry>>;
}

export const emptyRoster: Roster = { selfSid: null, order: [], bySid: {} };

function withTracks(p: Participant, tracks: TrackRef[]): RosterEntry {
  const t: Record<string, RosterTrack> = {};
  for (const tr of tracks) if (tr.sid === p.sid) t[tr.track_id] = { kind: tr.kind, source: tr.source };
  return { ...p, tracks: t };
}

function upsert(r: Roster, p: Participant): Roster {
  if (p.sid === r.selfSid) return r;
  const old = r.bySid[p.sid];
  const entry: RosterEntry = { ...p, tracks: old ? old.tracks : {} };
  return {
    ...r,
    order: old ? r.order : [...r.order, p.sid],
    bySid: { ...r.bySid, [p.sid]: entry },
  };
}

function setTrack(r: Roster, sid: string, trackId: string, track: RosterTrack | null): Roster {
  const e = r.bySid[sid];
  if (!e) return r;
  const tracks = { ...e.tracks };
  if (track) tracks[trackId] = track;
  else delete tracks[trackId];
  return { ...r, bySid: { ...r.bySid, [sid]: { ...e, tracks } } };
}

/** The roster a `joined`/`resumed` describes; participants already known keep their place in the order. */
export function rosterFromState(state: RoomState, previous: Roster = emptyRoster): Roster {
  const others = state.participants.filter((p) => p.sid !== state.you.sid);
  const bySid: Record<string, RosterEntry> = {};
  for (const p of others) bySid[p.sid] = withTracks(p, state.tracks);
  const kept = previous.order.filter((sid) => bySid[sid]);
  const added = others.map((p) => p.sid).filter((sid) => !previous.bySid[sid]);
  return { selfSid: state.you.sid, order: [...kept, ...added], bySid };
}

/** Apply one server message; messages that do not change the room return the same object. */
export function applyToRoster(r: Roster, msg: ServerMessage): Roster {
  switch (msg.type) {
    case 'joined':
    case 'resumed':
      return rosterFromState(msg, r);
    case 'participant_joined':
    case 'participant_updated':
      return upsert(r, msg.participant);
    case 'participant_left': {
      if (!r.bySid[msg.sid]) return r;
      const bySid = { ...r.bySid };
      delete bySid[msg.sid];
      return { ...r, order: r.order.filter((s) => s !== msg.sid), bySid };
    }
    case 'track_published':
      return setTrack(r, msg.sid, msg.track_id, { kind: msg.kind, source: msg.source });
    case 'track_unpublished':
      return setTrack(r, msg.sid, msg.track_id, null);
    default:
      return r;
  }
}

export function rosterEntries(r: Roster): RosterEntry[] {
  return r.order.map((sid) => r.bySid[sid]).filter((e): e is RosterEntry => e !== undefined);
}

export function hasTrackOfKind(e: RosterEntry, kind: TrackKind): boolean {
  return Object.values(e.tracks).some((t) => t.kind === kind);
}

export function hasSource(e: RosterEntry, source: TrackSource): boolean {
  return Object.values(e.tracks).some((t) => t.source === source);
}

/** The source of one of `sid`'s tracks, if the roster knows it. */
export function sourceOf(r: Roster, sid: string, trackId: string): TrackSource | null {
  return r.bySid[sid]?.tracks[trackId]?.source ?? null;
}
