// Local camera and microphone, and a microphone level meter (WebAudio AnalyserNode).

export type MediaProblem = 'denied' | 'unavailable' | null;

export interface LocalMedia {
  stream: MediaStream | null;
  problem: MediaProblem;
}

const VIDEO: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

function isDenied(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'NotAllowedError' || name === 'SecurityError';
}

/**
 * Camera and microphone, falling back to just one of them when the other is missing. Never throws: without any
 * device the result has no stream and says why.
 */
export async function acquireLocalMedia(md: MediaDevices | undefined = globalThis.navigator?.mediaDevices): Promise<LocalMedia> {
  if (!md?.getUserMedia) return { stream: null, problem: 'unavailable' };
  try {
    return { stream: await md.getUserMedia({ audio: AUDIO, video: VIDEO }), problem: null };
  } catch (e) {
    if (isDenied(e)) return { stream: null, problem: 'denied' };
  }
  for (const c of [{ audio: AUDIO }, { video: VIDEO }] as MediaStreamConstraints[]) {
    try {
      return { stream: await md.getUserMedia(c), problem: 'unavailable' };
    } catch {
      // try the next
    }
  }
  return { stream: null, problem: 'unavailable' };
}

export function stopStream(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}

/** RMS of time-domain samples (bytes centred on 128) mapped to 0..1 with a little gain for speech. */
export function levelFromSamples(samples: Uint8Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = (samples[i] - 128) / 128;
    sum += v * v;
  }
  return Math.min(1, Math.sqrt(sum / samples.length) * 4);
}

/** Calls `onLevel` with the microphone level (0..1) about 20 times a second until `stop()`. */
export class LevelMeter {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(stream: MediaStream, onLevel: (level: number) => void) {
    if (stream.getAudioTracks().length === 0 || typeof AudioContext === 'undefined') return;
    const ctx = new AudioContext();
    this.ctx = ctx;
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Uint8Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getByteTimeDomainData(buf);
      onLevel(levelFromSamples(buf));
    }, 50);
  }

  /** An AudioContext made before any user gesture starts suspended; call this from a gesture. */
  resume(): void {
    if (this.ctx?.state === 'suspended') void this.ctx.resume().catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }
}

/**
 * Decides from microphone levels (about 20 a second) whether someone is talking: most frames of the last
 * `windowMs` above `threshold`. Short beeps and clicks do not count; speech does.
 */
export class SpeechDetector {
  private frames: Array<[number, boolean]> = [];

  constructor(
    private readonly threshold = 0.12,
    private readonly windowMs = 600,
    private readonly share = 0.5,
  ) {}

  update(level: number, now: number): boolean {
    this.frames.push([now, level >= this.threshold]);
    while (this.frames.length && now - this.frames[0]![0] > this.windowMs) this.frames.shift();
    const loud = this.frames.filter(([, l]) => l).length;
    return this.frames.length >= 5 && loud / this.frames.length >= this.share;
  }
}
