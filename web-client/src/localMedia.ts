// The own camera, microphone and speaker: which devices, the live tracks, and what went wrong. Used by the pre-join
// screen (preview) and in the meeting (mute, camera on/off, switching devices: the session replaces the tracks
// it sends when `onTrack` reports a new one).

import type { MediaProblem } from './media';

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface LocalMediaState {
  /** The first acquisition finished (with or without devices). */
  ready: boolean;
  mic: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  /** Camera (and microphone) for previews; a new object whenever a track changes. */
  preview: MediaStream | null;
  micProblem: MediaProblem;
  cameraProblem: MediaProblem;
  cameras: readonly DeviceOption[];
  mics: readonly DeviceOption[];
  speakers: readonly DeviceOption[];
  cameraId: string | null;
  micId: string | null;
  /** null: the system default. */
  speakerId: string | null;
  muted: boolean;
  /** The camera was switched off by the user (not: there is none). */
  cameraOff: boolean;
}

const VIDEO: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

function problemOf(e: unknown): MediaProblem {
  const name = (e as { name?: string } | null)?.name;
  return name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'unavailable';
}

const withDevice = (base: MediaTrackConstraints, id: string | null): MediaTrackConstraints =>
  id ? { ...base, deviceId: { exact: id } } : base;

export class LocalMediaController {
  private state: LocalMediaState = {
    ready: false,
    mic: null,
    camera: null,
    preview: null,
    micProblem: null,
    cameraProblem: null,
    cameras: [],
    mics: [],
    speakers: [],
    cameraId: null,
    micId: null,
    speakerId: null,
    muted: false,
    cameraOff: false,
  };
  private listeners = new Set<() => void>();
  private stopped = false;
  /** The session sends these tracks: told about every change. */
  onTrack: ((source: 'microphone' | 'camera', track: MediaStreamTrack | null) => void) | null = null;

  constructor(private readonly md: MediaDevices | undefined = globalThis.navigator?.mediaDevices) {}

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getSnapshot = (): LocalMediaState => this.state;

  private set(patch: Partial<LocalMediaState>): void {
    const next = { ...this.state, ...patch };
    if (patch.mic !== undefined || patch.camera !== undefined) {
      const tracks = [next.camera, next.mic].filter((t): t is MediaStreamTrack => t !== null);
      next.preview = tracks.length && typeof MediaStream !== 'undefined' ? new MediaStream(tracks) : null;
    }
    this.state = next;
    for (const l of this.listeners) l();
  }

  /** Camera and microphone, each on its own if the other is missing or refused. Never throws. */
  async start(): Promise<void> {
    const md = this.md;
    if (!md?.getUserMedia) {
      this.set({ ready: true, micProblem: 'unavailable', cameraProblem: 'unavailable' });
      return;
    }
    let mic: MediaStreamTrack | null = null;
    let camera: MediaStreamTrack | null = null;
    let micProblem: MediaProblem = null;
    let cameraProblem: MediaProblem = null;
    try {
      const s = await md.getUserMedia({ audio: AUDIO, video: VIDEO });
      mic = s.getAudioTracks()[0] ?? null;
      camera = s.getVideoTracks()[0] ?? null;
    } catch (e) {
      if (problemOf(e) === 'denied') {
        micProblem = cameraProblem = 'denied';
      } else {
        mic = await this.acquire('audio', null).catch((err: unknown) => ((micProblem = problemOf(err)), null));
        camera = await this.acquire('video', null).catch((err: unknown) => ((cameraProblem = problemOf(err)), null));
      }
    }
    if (this.stopped) {
      mic?.stop();
      camera?.stop();
      return;
    }
    if (!mic && !micProblem) micProblem = 'unavailable';
    if (!camera && !cameraProblem) cameraProblem = 'unavailable';
    this.watchEnded(mic, 'microphone');
    this.watchEnded(camera, 'camera');
    this.set({
      ready: true,
      mic,
      camera,
      micProblem,
      cameraProblem,
      micId: mic?.getSettings().deviceId ?? null,
      cameraId: camera?.getSettings().deviceId ?? null,
    });
    await this.refreshDevices();
    md.addEventListener?.('devicechange', this.refreshDevices);
  }

  refreshDevices = async (): Promise<void> => {
    const list = await this.md?.enumerateDevices?.().catch(() => [] as MediaDeviceInfo[]);
    if (!list || this.stopped) return;
    const pick = (kind: MediaDeviceKind) =>
      list.filter((d) => d.kind === kind && d.deviceId).map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${kind} ${i + 1}` }));
    this.set({ cameras: pick('videoinput'), mics: pick('audioinput'), speakers: pick('audiooutput') });
  };

  setMuted(muted: boolean): void {
    if (this.state.mic) this.state.mic.enabled = !muted;
    this.set({ muted });
  }

  /** Switch the camera off (the device is released: its light goes out) or on again. */
  async setCameraOff(off: boolean): Promise<void> {
    if (off) {
      this.state.camera?.stop();
      this.set({ camera: null, cameraOff: true });
      this.onTrack?.('camera', null);
      return;
    }
    this.set({ cameraOff: false });
    await this.replace('video', this.state.cameraId);
  }

  async selectCamera(deviceId: string): Promise<void> {
    this.set({ cameraId: deviceId });
    if (!this.state.cameraOff) await this.replace('video', deviceId);
  }

  async selectMic(deviceId: string): Promise<void> {
    this.set({ micId: deviceId });
    await this.replace('audio', deviceId);
  }

  selectSpeaker(deviceId: string | null): void {
    this.set({ speakerId: deviceId });
  }

  /** Release the devices. */
  stop(): void {
    this.stopped = true;
    this.md?.removeEventListener?.('devicechange', this.refreshDevices);
    this.state.mic?.stop();
    this.state.camera?.stop();
    this.set({ mic: null, camera: null });
  }

  private async acquire(kind: 'audio' | 'video', deviceId: string | null): Promise<MediaStreamTrack> {
    const c = kind === 'audio' ? { audio: withDevice(AUDIO, deviceId) } : { video: withDevice(VIDEO, deviceId) };
    const s = await this.md!.getUserMedia(c);
    const t = kind === 'audio' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
    if (!t) throw Object.assign(new Error('no track'), { name: 'NotFoundError' });
    return t;
  }

  private async replace(kind: 'audio' | 'video', deviceId: string | null): Promise<void> {
    const key = kind === 'audio' ? 'mic' : 'camera';
    const problemKey = kind === 'audio' ? 'micProblem' : 'cameraProblem';
    const source = kind === 'audio' ? 'microphone' : 'camera';
    let track: MediaStreamTrack;
    try {
      track = await this.acquire(kind, deviceId);
    } catch (e) {
      this.set({ [problemKey]: problemOf(e) } as Partial<LocalMediaState>);
      return;
    }
    if (this.stopped) {
      track.stop();
      return;
    }
    const old = this.state[key];
    if (kind === 'audio') track.enabled = !this.state.muted;
    this.watchEnded(track, source);
    this.set({ [key]: track, [problemKey]: null, [kind === 'audio' ? 'micId' : 'cameraId']: track.getSettings().deviceId ?? deviceId } as Partial<LocalMediaState>);
    this.onTrack?.(source, track);
    old?.stop();
    void this.refreshDevices();
  }

  /** A device unplugged: its track ends. */
  private watchEnded(track: MediaStreamTrack | null, source: 'microphone' | 'camera'): void {
    if (!track) return;
    track.addEventListener?.('ended', () => {
      const key = source === 'microphone' ? 'mic' : 'camera';
      if (this.state[key] !== track || this.stopped) return;
      this.set({ [key]: null, [source === 'microphone' ? 'micProblem' : 'cameraProblem']: 'unavailable' } as Partial<LocalMediaState>);
      this.onTrack?.(source, null);
    });
  }
}
