// What the client knows about the room beyond media: roster, chat, raised hands, and the events worth announcing
// (join/leave, chat, hands). Pure: each server message gives a new model (or the same one if nothing changed).

import type { ChatEntry, Participant, RoomState, ServerMessage } from './protocol';
import { applyToRoster, emptyRoster, rosterFromState, type Roster } from './roster';

/** Chat messages kept in the client (the server keeps 200; a long meeting may bring more). */
export const CHAT_KEEP = 500;
/** Events kept for announcements and the notice list. */
export const EVENTS_KEEP = 50;

export type RoomEventKind = 'joined' | 'left' | 'chat' | 'hand_raised' | 'hand_lowered';

export interface RoomEvent {
  id: number;
  kind: RoomEventKind;
  sid: string;
  name: string;
  /** Chat text. */
  text?: string;
  /** hand_lowered by someone else (a moderator): their name. */
  byName?: string;
  /** The event concerns this client's own participant (e.g. a moderator lowered my hand). */
  self?: boolean;
}

export interface RoomModel {
  self: Participant | null;
  roster: Roster;
  chat: readonly ChatEntry[];
  /** Sids with a raised hand, first raised first (may include the own sid). */
  hands: readonly string[];
  events: readonly RoomEvent[];
  nextEventId: number;
}

export const emptyRoom: RoomModel = { self: null, roster: emptyRoster, chat: [], hands: [], events: [], nextEventId: 1 };

function nameOf(m: RoomModel, sid: string): string {
  if (m.self?.sid === sid) return m.self.name;
  return m.roster.bySid[sid]?.name ?? sid;
}

function addEvents(m: RoomModel, events: Array<Omit<RoomEvent, 'id'>>): RoomModel {
  if (events.length === 0) return m;
  let id = m.nextEventId;
  const withIds = events.map((e) => ({ ...e, id: id++ }));
  return { ...m, events: [...m.events, ...withIds].slice(-EVENTS_KEEP), nextEventId: id };
}

function mergeChat(known: readonly ChatEntry[], incoming: readonly ChatEntry[]): ChatEntry[] {
  const byId = new Map<number, ChatEntry>();
  for (const c of known) byId.set(c.id, c);
  for (const c of incoming) byId.set(c.id, c);
  return [...byId.values()].sort((a, b) => a.id - b.id).slice(-CHAT_KEEP);
}

/**
 * A `joined` or `resumed`. The first one just sets the scene; later ones (after a reconnect) announce who came or
 * went meanwhile and which chat messages were missed.
 */
function applyState(m: RoomModel, state: RoomState, resumed: boolean): RoomModel {
  const first = m.self === null;
  const roster = rosterFromState(state, m.roster);
  // A clean rejoin is a new meeting stay, but within the same room history: keep the messages seen so far unless
  // the server's history starts over (a new meeting in the same room).
  const known = resumed || state.chat.length > 0 ? m.chat : [];
  const chat = mergeChat(known, state.chat);
  let next: RoomModel = { ...m, self: state.you, roster, chat, hands: [...state.hands] };
  if (first) return next;
  const events: Array<Omit<RoomEvent, 'id'>> = [];
  for (const sid of m.roster.order) {
    if (!roster.bySid[sid]) events.push({ kind: 'left', sid, name: nameOf(m, sid) });
  }
  for (const sid of roster.order) {
    if (!m.roster.bySid[sid]) events.push({ kind: 'joined', sid, name: roster.bySid[sid]?.name ?? sid });
  }
  const seen = new Set(m.chat.map((c) => c.id));
  for (const c of state.chat) {
    if (!seen.has(c.id) && c.sid !== state.you.sid) events.push({ kind: 'chat', sid: c.sid, name: c.name, text: c.text });
  }
  next = addEvents(next, events.slice(-10));
  return next;
}

/** Apply one server message. */
export function applyRoomMessage(m: RoomModel, msg: ServerMessage): RoomModel {
  switch (msg.type) {
    case 'joined':
      return applyState(m, msg, false);
    case 'resumed':
      return applyState(m, msg, true);
    case 'participant_joined': {
      const known = !!m.roster.bySid[msg.participant.sid];
      const next = { ...m, roster: applyToRoster(m.roster, msg) };
      return known ? next : addEvents(next, [{ kind: 'joined', sid: msg.participant.sid, name: msg.participant.name }]);
    }
    case 'participant_updated':
      if (msg.participant.sid === m.self?.sid) return { ...m, self: msg.participant };
      return { ...m, roster: applyToRoster(m.roster, msg) };
    case 'participant_left': {
      if (!m.roster.bySid[msg.sid]) return m;
      const name = nameOf(m, msg.sid);
      const next = {
        ...m,
        roster: applyToRoster(m.roster, msg),
        hands: m.hands.filter((s) => s !== msg.sid),
      };
      return addEvents(next, [{ kind: 'left', sid: msg.sid, name }]);
    }
    case 'track_published':
    case 'track_unpublished': {
      const roster = applyToRoster(m.roster, msg);
      return roster === m.roster ? m : { ...m, roster };
    }
    case 'chat': {
      if (m.chat.some((c) => c.id === msg.message.id)) return m;
      const next = { ...m, chat: mergeChat(m.chat, [msg.message]) };
      const self = msg.message.sid === m.self?.sid;
      const c = msg.message;
      return self ? next : addEvents(next, [{ kind: 'chat', sid: c.sid, name: c.name, text: c.text }]);
    }
    case 'hand_changed': {
      const next = { ...m, hands: [...msg.queue] };
      const self = msg.sid === m.self?.sid;
      const byOther = msg.by !== msg.sid;
      const event: Omit<RoomEvent, 'id'> = { kind: msg.raised ? 'hand_raised' : 'hand_lowered', sid: msg.sid, name: nameOf(m, msg.sid), self };
      if (byOther) event.byName = nameOf(m, msg.by);
      // One's own raising and lowering needs no announcement; a moderator lowering it does.
      return self && !byOther ? next : addEvents(next, [event]);
    }
    default:
      return m;
  }
}

export function isHandRaised(m: Pick<RoomModel, 'hands'>, sid: string | undefined | null): boolean {
  return !!sid && m.hands.includes(sid);
}
