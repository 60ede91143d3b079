// Polls the media link's statistics: connection quality per participant (every other round) and who speaks
// (every round, from received audio levels). The SFU's own speaker events, once it sends them (`speakers`), win
// over the client's guess.

import type { MediaLink } from './mediaLink';
import { QualityMeter, SpeakerTracker, type Quality } from './quality';
import type { Roster } from './roster';

export const STATS_INTERVAL_MS = 500;
/** Server speaker events count for this long. */
const SERVER_SPEAKERS_MS = 3000;

export interface StatsPatch {
  quality?: Readonly<Record<string, Quality>>;
  ownQuality?: Quality;
  speaking?: ReadonlySet<string>;
  activeSpeaker?: string | null;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function sameRecord(a: Readonly<Record<string, Quality>>, b: Readonly<Record<string, Quality>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export class StatsLoop {
  private timer: ReturnType<typeof setInterval> | null = null;
  private round = 0;
  private busy = false;
  private meter = new QualityMeter();
  private speakers = new SpeakerTracker();
  private serverSpeakersAt = 0;
  private last: Required<StatsPatch> = { quality: {}, ownQuality: 'unknown', speaking: new Set(), activeSpeaker: null };

  constructor(
    private readonly link: () => MediaLink | null,
    private readonly roster: () => Roster,
    private readonly apply: (patch: StatsPatch) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), STATS_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  forget(sid: string): void {
    this.speakers.forget(sid);
  }

  /** The SFU said who speaks. */
  serverSpeakers(speaking: readonly string[], dominant: string | null): void {
    this.serverSpeakersAt = Date.now();
    this.emit({ speaking: new Set(speaking), activeSpeaker: dominant ?? this.last.activeSpeaker });
  }

  private async tick(): Promise<void> {
    const link = this.link();
    if (!link || this.busy) return;
    this.busy = true;
    try {
      const roster = this.roster();
      const inbound = await link.inbound(roster);
      const patch: StatsPatch = {};
      if (Date.now() - this.serverSpeakersAt > SERVER_SPEAKERS_MS) {
        const levels: Record<string, number> = {};
        for (const a of inbound.inboundAudio) {
          if (!a.sid) continue;
          levels[a.sid] = Math.max(levels[a.sid] ?? 0, a.audioLevel ?? 0);
        }
        // A muted participant is not speaking, whatever noise its packets carry.
        for (const sid of Object.keys(levels)) if (roster.bySid[sid]?.muted) levels[sid] = 0;
        const { speaking, active } = this.speakers.update(levels, Date.now());
        patch.speaking = speaking;
        patch.activeSpeaker = active;
      }
      if (this.round++ % 2 === 0) {
        patch.quality = this.meter.update([...inbound.inboundAudio, ...inbound.inboundVideo]);
        patch.ownQuality = await link.upstreamQuality();
      }
      this.emit(patch);
    } finally {
      this.busy = false;
    }
  }

  /** Apply only what changed. */
  private emit(patch: StatsPatch): void {
    const out: StatsPatch = {};
    if (patch.quality && !sameRecord(patch.quality, this.last.quality)) out.quality = this.last.quality = patch.quality;
    if (patch.ownQuality && patch.ownQuality !== this.last.ownQuality) out.ownQuality = this.last.ownQuality = patch.ownQuality;
    if (patch.speaking && !sameSet(patch.speaking, this.last.speaking)) out.speaking = this.last.speaking = patch.speaking;
    if (patch.activeSpeaker !== undefined && patch.activeSpeaker !== this.last.activeSpeaker) {
      out.activeSpeaker = this.last.activeSpeaker = patch.activeSpeaker;
    }
    if (Object.keys(out).length > 0) this.apply(out);
  }
}
