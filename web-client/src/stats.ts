// Inbound RTP statistics of the subscriber connection, for the debug hook used by browser tests.

export interface InboundStat {
  kind: 'audio' | 'video';
  trackIdentifier: string;
  /** Publisher sid / identity of the track, when known. */
  sid: string | null;
  identity: string | null;
  packetsReceived: number;
  bytesReceived: number;
  packetsLost: number;
  jitter: number;
  // audio
  totalSamplesReceived?: number;
  audioLevel?: number;
  totalAudioEnergy?: number;
  // video
  framesDecoded?: number;
  framesReceived?: number;
  frameWidth?: number;
  frameHeight?: number;
  keyFramesDecoded?: number;
  /** Loss recovery as the receiver saw it: NACKs and PLIs it sent, packets that came as retransmissions. */
  nackCount?: number;
  pliCount?: number;
  retransmittedPacketsReceived?: number;
  /** Freezes the renderer detected (a frame late by more than ~3x the average frame interval). */
  freezeCount?: number;
  totalFreezesDuration?: number;
}

export interface InboundStats {
  inboundAudio: InboundStat[];
  inboundVideo: InboundStat[];
}

type Rec = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Collect inbound-rtp entries; `owner(trackId)` maps a receiving track to its publisher. */
export function collectInbound(
  report: RTCStatsReport | Iterable<[string, Rec]> | null,
  owner: (trackId: string) => { sid: string; identity: string | null } | null,
): InboundStats {
  const out: InboundStats = { inboundAudio: [], inboundVideo: [] };
  if (!report) return out;
  const entries: Rec[] = [];
  (report as { forEach: (f: (v: Rec) => void) => void }).forEach((v) => entries.push(v));
  for (const s of entries) {
    if (s.type !== 'inbound-rtp') continue;
    const kind = s.kind === 'audio' || s.kind === 'video' ? s.kind : null;
    if (!kind) continue;
    const trackIdentifier = typeof s.trackIdentifier === 'string' ? s.trackIdentifier : '';
    const who = owner(trackIdentifier);
    const base: InboundStat = {
      kind,
      trackIdentifier,
      sid: who?.sid ?? null,
      identity: who?.identity ?? null,
      packetsReceived: num(s.packetsReceived) ?? 0,
      bytesReceived: num(s.bytesReceived) ?? 0,
      packetsLost: num(s.packetsLost) ?? 0,
      jitter: num(s.jitter) ?? 0,
    };
    if (kind === 'audio') {
      out.inboundAudio.push({
        ...base,
        totalSamplesReceived: num(s.totalSamplesReceived) ?? 0,
        audioLevel: num(s.audioLevel) ?? 0,
        totalAudioEnergy: num(s.totalAudioEnergy) ?? 0,
      });
    } else {
      out.inboundVideo.push({
        ...base,
        framesDecoded: num(s.framesDecoded) ?? 0,
        framesReceived: num(s.framesReceived) ?? 0,
        frameWidth: num(s.frameWidth) ?? 0,
        frameHeight: num(s.frameHeight) ?? 0,
        keyFramesDecoded: num(s.keyFramesDecoded) ?? 0,
        nackCount: num(s.nackCount) ?? 0,
        pliCount: num(s.pliCount) ?? 0,
        retransmittedPacketsReceived: num(s.retransmittedPacketsReceived) ?? 0,
        freezeCount: num(s.freezeCount) ?? 0,
        totalFreezesDuration: num(s.totalFreezesDuration) ?? 0,
      });
    }
  }
  return out;
}
