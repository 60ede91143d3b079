// Plenum signaling protocol, version 1 — mirrors docs/protocol.md (the contract with the server).
// Every frame is one JSON object with a "type" field; field names are snake_case.

export const PROTOCOL_VERSION = 1;

export type PcTarget = 'publisher' | 'subscriber';
export type TrackKind = 'audio' | 'video';

/** A participant as the server describes it. */
export interface Participant {
  sid: string;
  identity: string;
  name: string;
  moderator: boolean;
  muted: boolean;
  camera_off: boolean;
}

export interface TrackRef {
  sid: string;
  track_id: string;
  kind: TrackKind;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

// ---- client → server ----

export interface JoinMsg {
  type: 'join';
  protocol: number;
  room: string;
  token: string;
  name?: string;
}
export interface PublishOfferMsg {
  type: 'publish_offer';
  sdp: string;
}
export interface SubscribeAnswerMsg {
  type: 'subscribe_answer';
  sdp: string;
}
export interface IceCandidateMsg {
  type: 'ice_candidate';
  target: PcTarget;
  /** A `candidate:` line; null means end of candidates. */
  candidate: string | null;
}
export interface UpdateMsg {
  type: 'update';
  muted?: boolean;
  camera_off?: boolean;
}
export interface LeaveMsg {
  type: 'leave';
}
export interface PingMsg {
  type: 'ping';
  id: number;
}

export type ClientMessage =
  | JoinMsg
  | PublishOfferMsg
  | SubscribeAnswerMsg
  | IceCandidateMsg
  | UpdateMsg
  | LeaveMsg
  | PingMsg;

// ---- server → client ----

export interface JoinedMsg {
  type: 'joined';
  protocol: number;
  room: string;
  you: Participant;
  participants: Participant[];
  tracks: TrackRef[];
  ice_servers: IceServer[];
}
export interface PublishAnswerMsg {
  type: 'publish_answer';
  sdp: string;
}
export interface SubscribeOfferMsg {
  type: 'subscribe_offer';
  sdp: string;
}
export interface ParticipantJoinedMsg {
  type: 'participant_joined';
  participant: Participant;
}
export interface ParticipantUpdatedMsg {
  type: 'participant_updated';
  participant: Participant;
}
export type LeaveReason = 'left' | 'disconnected' | 'connection_failed' | 'error' | 'shutdown';
export interface ParticipantLeftMsg {
  type: 'participant_left';
  sid: string;
  reason: LeaveReason | string;
}
export interface TrackPublishedMsg {
  type: 'track_published';
  sid: string;
  track_id: string;
  kind: TrackKind;
}
export interface TrackUnpublishedMsg {
  type: 'track_unpublished';
  sid: string;
  track_id: string;
}
export interface PongMsg {
  type: 'pong';
  id: number;
}

export type ErrorCode =
  | 'bad_json'
  | 'unknown_message'
  | 'bad_request'
  | 'frame_too_large'
  | 'rate_limited'
  | 'not_joined'
  | 'already_joined'
  | 'protocol_unsupported'
  | 'token_invalid'
  | 'token_expired'
  | 'token_wrong_room'
  | 'join_timeout'
  | 'bad_sdp'
  | 'bad_candidate'
  | 'unexpected_answer'
  | 'internal'
  | 'removed';

export interface ErrorMsg {
  type: 'error';
  code: ErrorCode | string;
  message: string;
  fatal: boolean;
}

export type ServerMessage =
  | JoinedMsg
  | PublishAnswerMsg
  | SubscribeOfferMsg
  | ParticipantJoinedMsg
  | ParticipantUpdatedMsg
  | ParticipantLeftMsg
  | TrackPublishedMsg
  | TrackUnpublishedMsg
  | PongMsg
  | ErrorMsg;

export type ServerMessageType = ServerMessage['type'];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

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

function isTrackRef(v: unknown): v is TrackRef {
  return isObj(v) && isStr(v.sid) && isStr(v.track_id) && (v.kind === 'audio' || v.kind === 'video');
}

/**
 * Parse one text frame from the server. Returns null for anything that is not a well-formed message of a known
 * type (unknown fields are ignored, as the protocol says).
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
      if (!isParticipant(v.you) || !isStr(v.room)) return null;
      const participants = Array.isArray(v.participants) ? v.participants.filter(isParticipant).map(normParticipant) : [];
      const tracks = Array.isArray(v.tracks) ? v.tracks.filter(isTrackRef) : [];
      const ice_servers = Array.isArray(v.ice_servers) ? (v.ice_servers.filter(isObj) as unknown as IceServer[]) : [];
      return {
        type: 'joined',
        protocol: typeof v.protocol === 'number' ? v.protocol : PROTOCOL_VERSION,
        room: v.room,
        you: normParticipant(v.you),
        participants,
        tracks,
        ice_servers,
      };
    }
    case 'publish_answer':
    case 'subscribe_offer':
      return isStr(v.sdp) ? { type: v.type, sdp: v.sdp } : null;
    case 'participant_joined':
    case 'participant_updated':
      return isParticipant(v.participant) ? { type: v.type, participant: normParticipant(v.participant) } : null;
    case 'participant_left':
      return isStr(v.sid) ? { type: 'participant_left', sid: v.sid, reason: isStr(v.reason) ? v.reason : 'left' } : null;
    case 'track_published':
      return isTrackRef(v) ? { type: 'track_published', sid: v.sid, track_id: v.track_id, kind: v.kind } : null;
    case 'track_unpublished':
      return isStr(v.sid) && isStr(v.track_id) ? { type: 'track_unpublished', sid: v.sid, track_id: v.track_id } : null;
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
