// Connection quality per participant and who is speaking, from the client's own WebRTC statistics.

import type { InboundStat } from './stats';

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

const RANK: Record<Quality, number> = { unknown: 0, good: 1, fair: 2, poor: 3 };

/** Loss (0..1) and jitter (s) over the last interval → a quality level. */
export function qualityFrom(loss: number, jitter: number): Quality {
  if (loss > 0.08 || jitter > 0.1) return 'poor';
  if (loss > 0.02 || jitter > 0.03) return 'fair';
  return 'good';
}

/** The worse of two levels (unknown counts as no information). */
export function worse(a: Quality, b: Quality): Quality {
  return RANK[a] >= RANK[b] ? a : b;
}

interface Counters {
  received: number;
  lost: number;
}

/** Turns successive inbound-rtp samples into per-participant quality. */
export class QualityMeter {
  private prev = new Map<string, Counters>();

  /** One round of samples; returns quality by sid (participants that sent nothing in the interval: unknown). */
  update(samples: readonly InboundStat[]): Record<string, Quality> {
    const out: Record<string, Quality> = {};
    const next = new Map<string, Counters>();
    for (const s of samples) {
      if (!s.sid) continue;
      const key = `${s.kind}:${s.trackIdentifier}`;
      const now = { received: s.packetsReceived, lost: Math.max(0, s.packetsLost) };
      next.set(key, now);
      const before = this.prev.get(key);
      if (!before) {
        out[s.sid] ??= 'unknown';
        continue;
      }
      const received = now.received - before.received;
      const lost = Math.max(0, now.lost - before.lost);
      const q = received + lost > 0 ? qualityFrom(lost / (received + lost), s.jitter) : 'unknown';
      out[s.sid] = worse(out[s.sid] ?? 'unknown', q);
    }
    this.prev = next;
    return out;
  }
}

/** Quality of the own upstream from the publisher's remote-inbound-rtp reports (what the SFU says it got). */
export function ownQuality(report: RTCStatsReport | Iterable<[string, Record<string, unknown>]> | null): Quality {
  if (!report) return 'unknown';
  let q: Quality = 'unknown';
  (report as { forEach: (f: (v: Record<string, unknown>) => void) => void }).forEach((s) => {
    if (s.type !== 'remote-inbound-rtp') return;
    const loss = typeof s.fractionLost === 'number' ? s.fractionLost : 0;
    const jitter = typeof s.jitter === 'number' ? s.jitter : 0;
    const rtt = typeof s.roundTripTime === 'number' ? s.roundTripTime : 0;
    let level = qualityFrom(loss, jitter);
    if (rtt > 0.4) level = worse(level, 'poor');
    else if (rtt > 0.2) level = worse(level, 'fair');
    q = worse(q, level);
  });
  return q;
}

/** Audio level above which a participant counts as speaking (stats audioLevel is 0..1, linear). */
export const SPEAKING_LEVEL = 0.02;
/** How long someone still counts as speaking after the level dropped. */
export const SPEAKING_HOLD_MS = 800;
/** The active speaker changes only after the new one spoke this long. */
export const ACTIVE_SWITCH_MS = 1200;

/** Who is speaking and who is the active speaker, with some hold so the view does not flicker. */
export class SpeakerTracker {
  private lastLoud = new Map<string, number>();
  private candidate: { sid: string; since: number } | null = null;
  active: string | null = null;

  update(levels: Readonly<Record<string, number>>, now: number): { speaking: Set<string>; active: string | null } {
    let loudest: string | null = null;
    let loudestLevel = SPEAKING_LEVEL;
    for (const [sid, level] of Object.entries(levels)) {
      if (level > SPEAKING_LEVEL) this.lastLoud.set(sid, now);
      if (level > loudestLevel) {
        loudest = sid;
        loudestLevel = level;
      }
    }
    const speaking = new Set<string>();
    for (const [sid, t] of this.lastLoud) {
      if (now - t <= SPEAKING_HOLD_MS) speaking.add(sid);
      else this.lastLoud.delete(sid);
    }
    if (loudest && loudest !== this.active) {
      if (this.candidate?.sid !== loudest) this.candidate = { sid: loudest, since: now };
      if (this.active === null || now - this.candidate.since >= ACTIVE_SWITCH_MS) {
        this.active = loudest;
        this.candidate = null;
      }
    } else if (loudest === this.active) {
      this.candidate = null;
    }
    return { speaking, active: this.active };
  }

  /** Forget a participant who left. */
  forget(sid: string): void {
    this.lastLoud.delete(sid);
    if (this.active === sid) this.active = null;
  }
}
