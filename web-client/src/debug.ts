// A small hook for browser tests: `window.__plenum.stats()` returns the subscriber connection's inbound RTP stats.

import type { MeetingSession, PcDebugInfo } from './session';
import type { InboundStats } from './stats';

export interface PlenumDebug {
  stats: () => Promise<InboundStats>;
  /** Current phase of the meeting session, or null before joining. */
  phase: () => string | null;
  /** Peer connection states and SDP (null before joining). */
  connections: () => Record<'publisher' | 'subscriber', PcDebugInfo | null> | null;
  /** [event, ms since Join] of the current session: signaling steps, connection states, remote tracks. */
  timeline: () => Array<[string, number]>;
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
    stats: async () => (current ? current.stats() : { inboundAudio: [], inboundVideo: [] }),
    phase: () => current?.getSnapshot().phase ?? null,
    connections: () => current?.connections() ?? null,
    timeline: () => current?.timeline() ?? [],
  };
}
