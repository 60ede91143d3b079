// The types around MeetingSession: its snapshot for the UI, options and dependencies, debug info.

import type { SocketFactory } from './signaling';
import type { PcFactory } from './peer';
import type { RoomModel } from './roomState';
import type { ParticipantMedia } from './remoteMedia';
import type { Quality } from './quality';
import type { LobbyEntry } from './protocol';

export type Phase = 'connecting' | 'lobby' | 'joined' | 'reconnecting' | 'left' | 'failed';

export interface SessionError {
  code: string;
  message: string;
}

export interface SessionSnapshot {
  phase: Phase;
  room: RoomModel;
  /** Remote media by publisher sid. */
  media: ReadonlyMap<string, ParticipantMedia>;
  muted: boolean;
  cameraOff: boolean;
  /** The own screen share, while sharing. */
  screen: MediaStream | null;
  quality: Readonly<Record<string, Quality>>;
  ownQuality: Quality;
  speaking: ReadonlySet<string>;
  activeSpeaker: string | null;
  /** A media connection is down or reconnecting (signaling may be fine). */
  mediaTrouble: boolean;
  /** Remote videos the SFU paused for this client's bandwidth, as `sid/track_id`. */
  pausedVideo: ReadonlySet<string>;
  /** The server drains (restart): the meeting ends at the latest at this time (ms since the epoch, local clock). */
  drainingUntil: number | null;
  /** In the lobby: whether a moderator is in the meeting to admit us. */
  moderatorsPresent: boolean;
  /** Moderators: who waits in the lobby. */
  lobby: readonly LobbyEntry[];
  /** A moderator locked the meeting. */
  locked: boolean;
  /** Set when phase is 'failed'. */
  fatal: SessionError | null;
  /** The last non-fatal problem worth showing; cleared by `dismissNotice`. */
  notice: SessionError | null;
}

/** The own devices, as the session needs them (LocalMediaController in the app, a fake in tests). */
export interface LocalMediaSource {
  getSnapshot(): { mic: MediaStreamTrack | null; camera: MediaStreamTrack | null; preview: MediaStream | null; muted: boolean; cameraOff: boolean };
  setMuted(muted: boolean): void;
  setCameraOff(off: boolean): Promise<void>;
  onTrack: ((source: 'microphone' | 'camera', track: MediaStreamTrack | null) => void) | null;
}

export interface SessionOptions {
  wsUrl: string;
  room: string;
  token: string;
  name: string;
  /** Own camera and microphone; null joins listen-only. */
  local: LocalMediaSource | null;
}

export interface SessionDeps {
  socketFactory?: SocketFactory;
  pcFactory?: PcFactory;
  getDisplayMedia?: () => Promise<MediaStream>;
  log?: (...args: unknown[]) => void;
}

export interface PcDebugInfo {
  connectionState: string;
  iceConnectionState: string;
  signalingState: string;
  localSdp: string | null;
  remoteSdp: string | null;
}

export function pcDebugInfo(pc: RTCPeerConnection | undefined): PcDebugInfo | null {
  if (!pc) return null;
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    signalingState: pc.signalingState,
    localSdp: pc.localDescription?.sdp ?? null,
    remoteSdp: pc.remoteDescription?.sdp ?? null,
  };
}
