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
  constructor(public kind: 'audio' | 'video', public id = `${kind}-${Math.random().toString(36).slice(2)}`) {}
  stop(): void {
    this.stopped = true;
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

export class FakePc {
  static created: FakePc[] = [];
  transceivers: Array<{ track: FakeTrack; init: RTCRtpTransceiverInit }> = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  closed = false;
  connectionState = 'new';
  log: string[] = [];
  /** Makes setRemoteDescription wait until the test resolves it. */
  holdRemote: (() => void) | null = null;
  onicecandidate: ((ev: { candidate: { candidate: string } | null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ontrack: ((ev: { track: FakeTrack; streams: FakeStream[] }) => void) | null = null;
  private answers = 0;

  constructor(public config: RTCConfiguration) {
    FakePc.created.push(this);
  }
  addTransceiver(track: FakeTrack, init: RTCRtpTransceiverInit): void {
    this.transceivers.push({ track, init });
  }
  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: 'offer', sdp: `offer-with-${this.transceivers.length}-tracks` };
  }
  async createAnswer(): Promise<{ type: string; sdp: string }> {
    this.answers += 1;
    return { type: 'answer', sdp: `answer-${this.answers}-to-${this.remoteDescription?.sdp}` };
  }
  async setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    this.log.push(`setLocal:${d.type}`);
    this.localDescription = d;
  }
  async setRemoteDescription(d: { type: string; sdp: string }): Promise<void> {
    this.log.push(`setRemote:${d.type}:${d.sdp}:start`);
    if (this.holdRemote === null && d.sdp.startsWith('hold')) {
      await new Promise<void>((resolve) => (this.holdRemote = resolve));
    }
    this.remoteDescription = d;
    this.log.push(`setRemote:${d.type}:${d.sdp}:done`);
  }
  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    return new Map();
  }
  close(): void {
    this.closed = true;
  }
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
