// Test doubles for the browser's WebSocket and RTCPeerConnection (only what the client uses).

import type { SocketLike } from '../signaling';

export class FakeSocket implements SocketLike {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(public url: string) {
    FakeSocket.last = this;
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send before open');
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  // ---- driven by tests ----
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }
  serverClose(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** Sent messages, parsed. */
  messages(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
  ofType(type: string): Array<Record<string, unknown>> {
    return this.messages().filter((m) => m.type === type);
  }
}

export class FakeTrack {
  enabled = true;
  stopped = false;
  readyState: 'live' | 'ended' = 'live';
  constructor(public kind: 'audio' | 'video', public id = `${kind}-${Math.random().toString(36).slice(2)}`) {}
  stop(): void {
    this.stopped = true;
    this.readyState = 'ended';
  }
  addEventListener(): void {}
  getSettings(): { deviceId: string } {
    return { deviceId: `${this.kind}-device` };
  }
  clone(): FakeTrack {
    return new FakeTrack(this.kind);
  }
}

export class FakeStream {
  constructor(public id: string, public tracks: FakeTrack[] = []) {}
  getTracks(): FakeTrack[] {
    return this.tracks;
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

export class FakeTransceiver {
  direction: RTCRtpTransceiverDirection;
  mid: string | null = null;
  sender: {
    track: FakeTrack | null;
    encodings: RTCRtpEncodingParameters[];
    replaceTrack: (t: FakeTrack | null) => Promise<void>;
    getParameters: () => RTCRtpSendParameters;
    setParameters: (p: RTCRtpSendParameters) => Promise<void>;
  };
  constructor(track: FakeTrack | null, public init: RTCRtpTransceiverInit) {
    this.direction = init.direction ?? 'sendrecv';
    const sender = {
      track,
      encodings: (init.sendEncodings ?? [{}]).map((e) => ({ active: true, ...e })) as RTCRtpEncodingParameters[],
      replaceTrack: async (t: FakeTrack | null) => {
        sender.track = t;
      },
      getParameters: () => ({ encodings: sender.encodings.map((e) => ({ ...e })) }) as unknown as RTCRtpSendParameters,
      setParameters: async (p: RTCRtpSendParameters) => {
        sender.encodings = p.encodings.map((e) => ({ ...e }));
      },
    };
    this.sender = sender;
  }
  get track(): FakeTrack | null {
    return this.sender.track;
  }
}

export class FakePc {
  static created: FakePc[] = [];
  transceivers: FakeTransceiver[] = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  signalingState: RTCSignalingState = 'stable';
  closed = false;
  connectionState = 'new';
  iceConnectionState = 'new';
  log: string[] = [];
  offers = 0;
  /** Makes setRemoteDescription wait until the test resolves it. */
  holdRemote: (() => void) | null = null;
  onicecandidate: ((ev: { candidate: { candidate: string } | null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ontrack: ((ev: { track: FakeTrack; streams: FakeStream[]; transceiver?: { mid: string | null } }) => void) | null = null;
  private answers = 0;

  constructor(public config: RTCConfiguration) {
    FakePc.created.push(this);
  }
  getConfiguration(): RTCConfiguration {
    return this.config;
  }
  setConfiguration(config: RTCConfiguration): void {
    this.config = config;
  }
  addTransceiver(track: FakeTrack, init: RTCRtpTransceiverInit): FakeTransceiver {
    const t = new FakeTransceiver(track, init);
    this.transceivers.push(t);
    return t;
  }
  async createOffer(opts?: { iceRestart?: boolean }): Promise<{ type: string; sdp: string }> {
    this.offers += 1;
    const restart = opts?.iceRestart ? '-restart' : '';
    return { type: 'offer', sdp: `offer-with-${this.transceivers.filter((t) => t.direction !== 'inactive').length}-tracks${restart}` };
  }
  async createAnswer(): Promise<{ type: string; sdp: string }> {
    this.answers += 1;
    return { type: 'answer', sdp: `answer-${this.answers}-to-${this.remoteDescription?.sdp}` };
  }
  async setLocalDescription(d: { type: string; sdp?: string }): Promise<void> {
    this.log.push(`setLocal:${d.type}`);
    if (d.type === 'rollback') {
      this.signalingState = 'stable';
      this.localDescription = null;
      return;
    }
    this.localDescription = { type: d.type, sdp: d.sdp ?? '' };
    if (d.type === 'offer') {
      this.signalingState = 'have-local-offer';
      this.transceivers.forEach((t, i) => (t.mid ??= String(i)));
    } else {
      this.signalingState = 'stable';
    }
  }
  async setRemoteDescription(d: { type: string; sdp: string }): Promise<void> {
    this.log.push(`setRemote:${d.type}:${d.sdp}:start`);
    if (this.holdRemote === null && d.sdp.startsWith('hold')) {
      await new Promise<void>((resolve) => (this.holdRemote = resolve));
    }
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
    this.log.push(`setRemote:${d.type}:${d.sdp}:done`);
  }
  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    return new Map();
  }
  close(): void {
    this.closed = true;
  }
  /** Drive a connection state change. */
  setState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

/** `new MediaStream(tracks)` for node (the session builds per-participant streams). */
export function installFakeMediaStream(): void {
  const g = globalThis as { MediaStream?: unknown };
  if (g.MediaStream) return;
  let n = 0;
  g.MediaStream = class extends FakeStream {
    constructor(tracks: FakeTrack[] = []) {
      super(`stream-${++n}`, [...tracks]);
    }
  };
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
