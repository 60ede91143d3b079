// A small hook for browser tests: `window.__plenum` reads the current session (stats, phase, connections, timeline,
// room events seen).

import type { MeetingSession, PcDebugInfo } from './session';
import type { SelectedPath } from './path';
import type { InboundStats } from './stats';

export interface PlenumDebug {
  stats: () => Promise<InboundStats>;
  /** Current phase of the meeting session, or null before joining. */
  phase: () => string | null;
  /** Peer connection states and SDP (null before joining). */
  connections: () => Record<'publisher' | 'subscriber', PcDebugInfo | null> | null;
  /** The selected ICE candidate pair of each connection (UDP/TCP, host/relay), null before joining. */
  paths: () => Promise<Record<'publisher' | 'subscriber', SelectedPath | null> | null>;
  /** [event, ms since Join] of the current session: signaling steps, connection states, remote tracks. */
  timeline: () => Array<[string, number]>;
  /** Room events received: [message type, sid]. */
  seen: () => Array<[string, string]>;
  /** Sids whose video tiles are on screen (the layout's hook for the SFU's allocation). */
  visible: () => readonly string[];
  /** The own participant's sid, once joined. */
  sid: () => string | null;
  /** Restart ICE on one of the connections now. */
  restartIce: (target: 'publisher' | 'subscriber') => void;
  /** Audio packets sent by the microphone's sender so far (null: none). */
  micPacketsSent: () => Promise<number | null>;
  /** Behave like a client that ignores a mute: the microphone's sender sends (silence) again. */
  ignoreMute: () => Promise<void>;
}

declare global {
  interface Window {
    __plenum?: PlenumDebug;
  }
}

let current: MeetingSession | null = null;

export function setDebugSession(s: MeetingSession | null): void {
  current = s;
}

export function installDebugHook(w: Window): void {
  w.__plenum = {
    stats: async () => (current ? current.inboundStats() : { inboundAudio: [], inboundVideo: [] }),
    phase: () => current?.getSnapshot().phase ?? null,
    connections: () => current?.connections() ?? null,
    paths: async () => (current ? current.paths() : null),
    timeline: () => current?.timeline() ?? [],
    seen: () => current?.seen() ?? [],
    visible: () => current?.visible ?? [],
    sid: () => current?.getSnapshot().room.self?.sid ?? null,
    restartIce: (target) => current?.restartIce(target),
    micPacketsSent: async () => {
      const sender = current?.micSender();
      if (!sender) return null;
      let sent = 0;
      (await sender.getStats()).forEach((r: { type: string; packetsSent?: number }) => {
        if (r.type === 'outbound-rtp') sent += r.packetsSent ?? 0;
      });
      return sent;
    },
    ignoreMute: async () => {
      const sender = current?.micSender();
      if (!sender) return;
      const params = sender.getParameters();
      for (const e of params.encodings ?? []) e.active = true;
      await sender.setParameters(params);
    },
  };
}
