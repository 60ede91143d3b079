import { describe, expect, it } from 'vitest';
import { collectInbound } from './stats';

describe('inbound stats', () => {
  it('picks inbound-rtp entries per kind and names their publisher', () => {
    const report = new Map<string, Record<string, unknown>>([
      ['a', { type: 'inbound-rtp', kind: 'audio', trackIdentifier: 'ta', packetsReceived: 50, totalSamplesReceived: 48000, audioLevel: 0.2 }],
      ['v', { type: 'inbound-rtp', kind: 'video', trackIdentifier: 'tv', packetsReceived: 300, framesDecoded: 30, frameWidth: 1280, nackCount: 7, retransmittedPacketsReceived: 6, freezeCount: 1 }],
      ['o', { type: 'outbound-rtp', kind: 'video', packetsSent: 1 }],
      ['c', { type: 'candidate-pair', state: 'succeeded' }],
    ]);
    const owners: Record<string, { sid: string; identity: string }> = { ta: { sid: 'p2', identity: 'bob' } };
    const s = collectInbound(report as unknown as RTCStatsReport, (id) => owners[id] ?? null);
    expect(s.inboundAudio).toHaveLength(1);
    expect(s.inboundAudio[0]).toMatchObject({ sid: 'p2', identity: 'bob', packetsReceived: 50, totalSamplesReceived: 48000, audioLevel: 0.2 });
    expect(s.inboundVideo).toHaveLength(1);
    expect(s.inboundVideo[0]).toMatchObject({ sid: null, packetsReceived: 300, framesDecoded: 30, frameWidth: 1280, frameHeight: 0, nackCount: 7, retransmittedPacketsReceived: 6, freezeCount: 1, pliCount: 0 });
  });

  it('is empty without a connection', () => {
    expect(collectInbound(null, () => null)).toEqual({ inboundAudio: [], inboundVideo: [] });
  });
});
