import { describe, expect, it } from 'vitest';
import { ACTIVE_SWITCH_MS, QualityMeter, SPEAKING_HOLD_MS, SpeakerTracker, ownQuality, qualityFrom, worse } from './quality';
import type { InboundStat } from './stats';

const sample = (sid: string, received: number, lost: number, jitter = 0.005): InboundStat => ({
  kind: 'audio',
  trackIdentifier: `${sid}-0`,
  sid,
  identity: sid,
  packetsReceived: received,
  bytesReceived: 0,
  packetsLost: lost,
  jitter,
});

describe('connection quality', () => {
  it('grades loss and jitter', () => {
    expect(qualityFrom(0, 0.01)).toBe('good');
    expect(qualityFrom(0.05, 0.01)).toBe('fair');
    expect(qualityFrom(0.01, 0.05)).toBe('fair');
    expect(qualityFrom(0.2, 0.01)).toBe('poor');
    expect(worse('good', 'poor')).toBe('poor');
    expect(worse('unknown', 'fair')).toBe('fair');
  });

  it('measures per participant over the interval between samples', () => {
    const m = new QualityMeter();
    expect(m.update([sample('p2', 100, 0), sample('p3', 100, 0)])).toEqual({ p2: 'unknown', p3: 'unknown' });
    expect(m.update([sample('p2', 200, 0), sample('p3', 150, 20)])).toEqual({ p2: 'good', p3: 'poor' });
    expect(m.update([sample('p2', 200, 0)])).toEqual({ p2: 'unknown' });
  });

  it('reads the own upstream from remote-inbound-rtp', () => {
    const report = new Map<string, Record<string, unknown>>([
      ['a', { type: 'remote-inbound-rtp', fractionLost: 0, jitter: 0.002, roundTripTime: 0.01 }],
      ['b', { type: 'remote-inbound-rtp', fractionLost: 0, jitter: 0.002, roundTripTime: 0.3 }],
    ]);
    expect(ownQuality(report)).toBe('fair');
    expect(ownQuality(new Map())).toBe('unknown');
    expect(ownQuality(null)).toBe('unknown');
  });
});

describe('speakers', () => {
  it('holds speaking a little and switches the active speaker only after a while', () => {
    const s = new SpeakerTracker();
    let r = s.update({ p2: 0.3, p3: 0 }, 0);
    expect([...r.speaking]).toEqual(['p2']);
    expect(r.active).toBe('p2');
    r = s.update({ p2: 0, p3: 0.5 }, 100);
    expect(r.active).toBe('p2');
    expect([...r.speaking].sort()).toEqual(['p2', 'p3']);
    r = s.update({ p2: 0, p3: 0.5 }, 100 + ACTIVE_SWITCH_MS);
    expect(r.active).toBe('p3');
    r = s.update({ p2: 0, p3: 0 }, 200 + ACTIVE_SWITCH_MS + SPEAKING_HOLD_MS);
    expect(r.speaking.size).toBe(0);
    expect(r.active).toBe('p3');
    s.forget('p3');
    expect(s.active).toBeNull();
  });
});
