// Plenum signaling protocol, version 1 — mirrors docs/protocol.md (the contract with the server).
// Every frame is one JSON object with a "type" field; field names are snake_case. The parser is in protocolParse.ts.

export const PROTOCOL_VERSION = 1;

export type PcTarget = 'publisher' | 'subscriber';
export type TrackKind = 'audio' | 'video';
/** What a published track carries. */
export type TrackSource = 'microphone' | 'camera' | 'screen' | 'screen_audio';
export const TRACK_SOURCES: readonly TrackSource[] = ['microphone', 'camera', 'screen', 'screen_audio'];

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
  source: TrackSource;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** One chat message as the room keeps it. */
export interface ChatEntry {
  id: number;
  sid: string;
  identity: string;
  name: string;
  text: string;
  /** Server time, ms since the Unix epoch. */
  at: number;
}

/** Longest chat message the server accepts (characters after trimming). */
export const MAX_CHAT_CHARS = 1000;

// ---- client → server ----

export interface JoinMsg {
  type: 'join';
  protocol: number;
  room: string;
  token: string;
  name?: string;
}
export interface ResumeMsg {
  type: 'resume';
  protocol: number;
  room: string;
  resume_token: string;
}
export interface PublishOfferMsg {
  type: 'publish_offer';
  sdp: string;
  /** mid → what it carries. */
  sources?: Record<string, TrackSource>;
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
export interface RestartIceMsg {
  type: 'restart_ice';
}
/** `sid`'s video `track_id` is shown at width x height CSS pixels (0x0: not shown). */
export interface VideoSize {
  sid: string;
  track_id: string;
  width: number;
  height: number;
}
export interface VideoSizesMsg {
  type: 'video_sizes';
  sizes: VideoSize[];
}
/** Most entries per `video_sizes`. */
export const MAX_VIDEO_SIZES = 64;
export interface UpdateMsg {
  type: 'update';
  muted?: boolean;
  camera_off?: boolean;
}
export interface ChatMsg {
  type: 'chat';
  text: string;
}
export interface HandMsg {
  type: 'hand';
  raised: boolean;
  /** Someone else's hand (moderators may lower it). */
  sid?: string;
}
export interface LeaveMsg {
  type: 'leave';
}
export interface PingMsg {
  type: 'ping';
  id: number;
}

export interface LobbyResponseMsg {
  type: 'lobby_response';
  /** One waiting person, or everyone with `all`. */
  sid?: string;
  all?: boolean;
  admit: boolean;
}
export type ModerateAction = 'mute' | 'mute_all' | 'ask_unmute' | 'stop_video' | 'stop_screen' | 'remove' | 'lock' | 'unlock' | 'end';
export interface ModerateMsg {
  type: 'moderate';
  action: ModerateAction;
  sid?: string;
  ban?: boolean;
}

export type ClientMessage =
  | LobbyResponseMsg
  | ModerateMsg
  | JoinMsg
  | ResumeMsg
  | PublishOfferMsg
  | SubscribeAnswerMsg
  | IceCandidateMsg
  | RestartIceMsg
  | VideoSizesMsg
  | UpdateMsg
  | ChatMsg
  | HandMsg
  | LeaveMsg
  | PingMsg;

// ---- server → client ----

/** What `joined` and `resumed` both say about the room. */
export interface RoomState {
  protocol: number;
  room: string;
  you: Participant;
  participants: Participant[];
  tracks: TrackRef[];
  ice_servers: IceServer[];
  /** `relay`: use only the TURN servers (RTCConfiguration.iceTransportPolicy); absent means `all`. */
  ice_transport_policy?: 'all' | 'relay';
  chat: ChatEntry[];
  hands: string[];
}
export interface JoinedMsg extends RoomState {
  type: 'joined';
  resume_token: string;
}
export interface ResumedMsg extends RoomState {
  type: 'resumed';
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
  source: TrackSource;
}
export interface TrackUnpublishedMsg {
  type: 'track_unpublished';
  sid: string;
  track_id: string;
}
export interface ChatServerMsg {
  type: 'chat';
  message: ChatEntry;
}
export interface HandChangedMsg {
  type: 'hand_changed';
  sid: string;
  raised: boolean;
  by: string;
  queue: string[];
}
export interface SpeakersMsg {
  type: 'speakers';
  dominant: string | null;
  speaking: string[];
}
export interface VideoPausedMsg {
  type: 'video_paused';
  sid: string;
  track_id: string;
  paused: boolean;
}
export interface PublisherLayersMsg {
  type: 'publisher_layers';
  track_id: string;
  active: Array<{ rid: string; active: boolean }>;
}
/** The server is being restarted: no new meetings; this one ends in at most `seconds` seconds. */
export interface DrainingMsg {
  type: 'draining';
  seconds: number;
}
export interface LobbyEntry {
  sid: string;
  identity: string;
  name: string;
  guest: boolean;
}
/** To moderators: who waits in the lobby now. */
export interface LobbyMsg {
  type: 'lobby';
  waiting: LobbyEntry[];
}
/** To someone in the lobby: still waiting; whether a moderator is there to admit them. */
export interface LobbyWaitingMsg {
  type: 'lobby_waiting';
  moderators_present: boolean;
}
export interface RoomLockedMsg {
  type: 'room_locked';
  locked: boolean;
  by: string;
}
/** To the participant a moderator acted on. */
export interface ModeratedMsg {
  type: 'moderated';
  action: 'mute' | 'ask_unmute' | 'stop_video' | 'stop_screen' | 'remove';
  by: string;
  ban: boolean;
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
  | 'removed'
  | 'resume_failed'
  | 'forbidden'
  | 'unknown_track'
  | 'draining'
  | 'room_locked'
  | 'banned'
  | 'lobby_denied'
  | 'meeting_ended'
  | 'meeting_deleted'
  | 'account_disabled';

export interface ErrorMsg {
  type: 'error';
  code: ErrorCode | string;
  message: string;
  fatal: boolean;
}

export type ServerMessage =
  | JoinedMsg
  | ResumedMsg
  | PublishAnswerMsg
  | SubscribeOfferMsg
  | ParticipantJoinedMsg
  | ParticipantUpdatedMsg
  | ParticipantLeftMsg
  | TrackPublishedMsg
  | TrackUnpublishedMsg
  | ChatServerMsg
  | HandChangedMsg
  | SpeakersMsg
  | VideoPausedMsg
  | PublisherLayersMsg
  | DrainingMsg
  | LobbyMsg
  | LobbyWaitingMsg
  | RoomLockedMsg
  | ModeratedMsg
  | PongMsg
  | ErrorMsg;

export type ServerMessageType = ServerMessage['type'];
