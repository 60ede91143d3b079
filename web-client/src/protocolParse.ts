// Parsing server frames into the typed messages of protocol.ts. Anything malformed becomes null; unknown fields
// are ignored and missing optional ones filled in, as the protocol says.

import {
  PROTOCOL_VERSION,
  TRACK_SOURCES,
  type ChatEntry,
  type IceServer,
  type ModeratedMsg,
  type Participant,
  type RoomState,
  type ServerMessage,
  type TrackRef,
  type TrackSource,
} from './protocol';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter(isStr) : []);

function isParticipant(v: unknown): v is Participant {
  return isObj(v) && isStr(v.sid) && isStr(v.identity) && isStr(v.name);
}

function normParticipant(v: Participant): Participant {
  return {
    sid: v.sid,
    identity: v.identity,
    name: v.name,
    moderator: v.moderator === true,
    muted: v.muted === true,
    camera_off: v.camera_off === true,
  };
}

function trackRef(v: unknown): TrackRef | null {
  if (!isObj(v) || !isStr(v.sid) || !isStr(v.track_id) || (v.kind !== 'audio' && v.kind !== 'video')) return null;
  const source: TrackSource = TRACK_SOURCES.includes(v.source as TrackSource)
    ? (v.source as TrackSource)
    : v.kind === 'audio'
      ? 'microphone'
      : 'camera';
  return { sid: v.sid, track_id: v.track_id, kind: v.kind, source };
}

function chatEntry(v: unknown): ChatEntry | null {
  if (!isObj(v) || typeof v.id !== 'number' || !isStr(v.sid) || !isStr(v.text)) return null;
  return {
    id: v.id,
    sid: v.sid,
    identity: isStr(v.identity) ? v.identity : '',
    name: isStr(v.name) ? v.name : '',
    text: v.text,
    at: typeof v.at === 'number' ? v.at : 0,
  };
}

function roomState(v: Record<string, unknown>): RoomState | null {
  if (!isParticipant(v.you) || !isStr(v.room)) return null;
  const list = (x: unknown) => (Array.isArray(x) ? x : []);
  return {
    protocol: typeof v.protocol === 'number' ? v.protocol : PROTOCOL_VERSION,
    room: v.room,
    you: normParticipant(v.you),
    participants: list(v.participants).filter(isParticipant).map(normParticipant),
    tracks: list(v.tracks).map(trackRef).filter((t): t is TrackRef => t !== null),
    ice_servers: list(v.ice_servers).filter(isObj) as unknown as IceServer[],
    ice_transport_policy: v.ice_transport_policy === 'relay' ? 'relay' : 'all',
    chat: list(v.chat).map(chatEntry).filter((c): c is ChatEntry => c !== null),
    hands: strings(v.hands),
  };
}

/**
 * Parse one text frame from the server. Returns null for anything that is not a well-formed message of a known
 * type.
 */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(v) || !isStr(v.type)) return null;
  switch (v.type) {
    case 'joined': {
      const state = roomState(v);
      return state ? { type: 'joined', ...state, resume_token: isStr(v.resume_token) ? v.resume_token : '' } : null;
    }
    case 'resumed': {
      const state = roomState(v);
      return state ? { type: 'resumed', ...state } : null;
    }
    case 'publish_answer':
    case 'subscribe_offer':
      return isStr(v.sdp) ? { type: v.type, sdp: v.sdp } : null;
    case 'participant_joined':
    case 'participant_updated':
      return isParticipant(v.participant) ? { type: v.type, participant: normParticipant(v.participant) } : null;
    case 'participant_left':
      return isStr(v.sid) ? { type: 'participant_left', sid: v.sid, reason: isStr(v.reason) ? v.reason : 'left' } : null;
    case 'track_published': {
      const t = trackRef(v);
      return t ? { type: 'track_published', ...t } : null;
    }
    case 'track_unpublished':
      return isStr(v.sid) && isStr(v.track_id) ? { type: 'track_unpublished', sid: v.sid, track_id: v.track_id } : null;
    case 'chat': {
      const message = chatEntry(v.message);
      return message ? { type: 'chat', message } : null;
    }
    case 'hand_changed':
      return isStr(v.sid) && typeof v.raised === 'boolean'
        ? { type: 'hand_changed', sid: v.sid, raised: v.raised, by: isStr(v.by) ? v.by : v.sid, queue: strings(v.queue) }
        : null;
    case 'speakers':
      return { type: 'speakers', dominant: isStr(v.dominant) ? v.dominant : null, speaking: strings(v.speaking) };
    case 'video_paused':
      return isStr(v.sid) && isStr(v.track_id) && typeof v.paused === 'boolean'
        ? { type: 'video_paused', sid: v.sid, track_id: v.track_id, paused: v.paused }
        : null;
    case 'publisher_layers': {
      if (!isStr(v.track_id) || !Array.isArray(v.active)) return null;
      const active = v.active.filter((l): l is { rid: string; active: boolean } => isObj(l) && isStr(l.rid) && typeof l.active === 'boolean');
      return { type: 'publisher_layers', track_id: v.track_id, active: active.map((l) => ({ rid: l.rid, active: l.active })) };
    }
    case 'draining':
      return typeof v.seconds === 'number' && v.seconds >= 0 ? { type: 'draining', seconds: v.seconds } : null;
    case 'lobby': {
      if (!Array.isArray(v.waiting)) return null;
      const waiting = v.waiting.filter((e): e is Record<string, unknown> => isObj(e) && isStr(e.sid) && isStr(e.name));
      return {
        type: 'lobby',
        waiting: waiting.map((e) => ({ sid: e.sid as string, name: e.name as string, identity: isStr(e.identity) ? e.identity : '', guest: e.guest === true })),
      };
    }
    case 'lobby_waiting':
      return { type: 'lobby_waiting', moderators_present: v.moderators_present === true };
    case 'room_locked':
      return typeof v.locked === 'boolean' ? { type: 'room_locked', locked: v.locked, by: isStr(v.by) ? v.by : '' } : null;
    case 'moderated':
      return ['mute', 'ask_unmute', 'stop_video', 'stop_screen', 'remove'].includes(v.action as string)
        ? { type: 'moderated', action: v.action as ModeratedMsg['action'], by: isStr(v.by) ? v.by : '', ban: v.ban === true }
        : null;
    case 'pong':
      return typeof v.id === 'number' ? { type: 'pong', id: v.id } : null;
    case 'error':
      return isStr(v.code)
        ? { type: 'error', code: v.code, message: isStr(v.message) ? v.message : '', fatal: v.fatal === true }
        : null;
    default:
      return null;
  }
}
