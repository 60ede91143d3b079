import { describe, expect, it } from 'vitest';
import { SpeechDetector, acquireLocalMedia, levelFromSamples } from './media';

describe('microphone level', () => {
  it('is 0 for silence and grows with amplitude, capped at 1', () => {
    expect(levelFromSamples(new Uint8Array(256).fill(128))).toBe(0);
    const quiet = levelFromSamples(Uint8Array.from({ length: 256 }, (_, i) => (i % 2 ? 133 : 123)));
    const loud = levelFromSamples(Uint8Array.from({ length: 256 }, (_, i) => (i % 2 ? 168 : 88)));
    expect(quiet).toBeGreaterThan(0);
    expect(loud).toBeGreaterThan(quiet);
    expect(levelFromSamples(Uint8Array.from({ length: 256 }, (_, i) => (i % 2 ? 255 : 0)))).toBe(1);
    expect(levelFromSamples(new Uint8Array(0))).toBe(0);
  });
});

function fakeDevices(has: { audio: boolean; video: boolean }, deny = false) {
  const calls: MediaStreamConstraints[] = [];
  const md = {
    async getUserMedia(c: MediaStreamConstraints) {
      calls.push(c);
      if (deny) throw Object.assign(new Error('denied'), { name: 'NotAllowedError' });
      if ((c.audio && !has.audio) || (c.video && !has.video)) throw Object.assign(new Error('none'), { name: 'NotFoundError' });
      return { id: JSON.stringify(Object.keys(c)) } as unknown as MediaStream;
    },
  } as unknown as MediaDevices;
  return { md, calls };
}

describe('acquiring camera and microphone', () => {
  it('asks for both, with 1280x720 ideal video', async () => {
    const { md, calls } = fakeDevices({ audio: true, video: true });
    const r = await acquireLocalMedia(md);
    expect(r.problem).toBeNull();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.video).toMatchObject({ width: { ideal: 1280 }, height: { ideal: 720 } });
  });

  it('falls back to the microphone alone when there is no camera', async () => {
    const { md } = fakeDevices({ audio: true, video: false });
    const r = await acquireLocalMedia(md);
    expect(r).toMatchObject({ problem: 'unavailable', stream: { id: '["audio"]' } });
  });

  it('does not ask again after a refusal', async () => {
    const { md, calls } = fakeDevices({ audio: true, video: true }, true);
    expect(await acquireLocalMedia(md)).toEqual({ stream: null, problem: 'denied' });
    expect(calls).toHaveLength(1);
  });

  it('reports no devices', async () => {
    expect(await acquireLocalMedia(fakeDevices({ audio: false, video: false }).md)).toEqual({ stream: null, problem: 'unavailable' });
    expect(await acquireLocalMedia(undefined)).toEqual({ stream: null, problem: 'unavailable' });
  });
});

describe('speech while muted', () => {
  it('is not a beep or a click, but talking', () => {
    const run = (levels: number[]) => {
      const d = new SpeechDetector();
      return levels.map((l, i) => d.update(l, i * 50)).some(Boolean);
    };
    // Chromium's fake microphone: one loud frame every half second.
    const beeps = Array.from({ length: 60 }, (_, i) => (i % 10 === 0 ? 1 : 0.03));
    expect(run(beeps)).toBe(false);
    // Talking: mostly loud, with short pauses between syllables.
    const talk = Array.from({ length: 30 }, (_, i) => (i % 4 === 3 ? 0.05 : 0.4));
    expect(run(talk)).toBe(true);
    expect(run(Array(40).fill(0))).toBe(false);
  });
});
