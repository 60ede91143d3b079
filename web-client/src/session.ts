// One stay in a meeting: the signaling socket, the publisher and subscriber connections, and the room roster.
// UI components read snapshots (useSyncExternalStore) and call the few actions; no WebRTC in components.

import { PROTOCOL_VERSION, type Participant, type PcTarget } from './protocol';
import { SignalingClient, browserSocketFactory, type SocketFactory } from './signaling';
import { browserPcFactory, PublisherConnection, SubscriberConnection, type PcFactory } from './peer';
import { applyToRoster, emptyRoster, type Roster } from './roster';
import { collectInbound, type InboundStats } from './stats';

export type Phase = 'connecting' | 'joined' | 'left' | 'failed';

export interface SessionError {
  code: string;
  message: string;
}

export interface SessionSnapshot {
  phase: Phase;
  self: Participant | null;
  roster: Roster;
  /** Remote media by publisher sid (one stream per participant, as the SFU labels it). */
  streams: ReadonlyMap<string, MediaStream>;
  muted: boolean;
  cameraOff: boolean;
  /** Set when phase is 'failed'. */
  fatal: SessionError | null;
  /** The last non-fatal problem worth showing; cleared by `dismissNotice`. */
  notice: SessionError | null;
}

export interface SessionOptions {
  wsUrl: string;
  room: string;
  token: string;
  name: string;
  /** Local camera/microphone; null joins without publishing. */
  localStream: MediaStream | null;
  muted?: boolean;
  cameraOff?: boolean;
}

export interface SessionDeps {
  socketFactory?: SocketFactory;
  pcFactory?: PcFactory;
  log?: (...args: unknown[]) => void;
}

export interface PcDebugInfo {
  connectionState: string;
  iceConnectionState: string;
  signalingState: string;
  localSdp: string | null;
  remoteSdp: string | null;
}

function pcDebugInfo(pc: RTCPeerConnection | undefined): PcDebugInfo | null {
  if (!pc) return null;
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    signalingState: pc.signalingState,
    localSdp: pc.localDescription?.sdp ?? null,
    remoteSdp: pc.remoteDescription?.sdp ?? null,
  };
}

// Non-fatal codes that are expected in normal operation and not shown to people.
const QUIET_CODES = new Set(['bad_candidate', 'unexpected_answer', 'rate_limited']);
const PING_INTERVAL_MS = 25_000;

export class MeetingSession {
  private snap: SessionSnapshot;
  private listeners = new Set<() => void>();
  private signaling: SignalingClient | null = null;
  private publisher: PublisherConnection | null = null;
  private subscriber: SubscriberConnection | null = null;
  private trackOwner = new Map<string, string>(); // remote track id → publisher sid
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pingId = 0;
  /** What happened when (ms since `start()`), for diagnosing join latency; bounded. */
  private readonly events: Array<[string, number]> = [];
  private t0 = 0;
  private readonly socketFactory: SocketFactory;
  private readonly pcFactory: PcFactory;
  private readonly log: (...args: unknown[]) => void;

  constructor(private opts: SessionOptions, deps: SessionDeps = {}) {
    this.socketFactory = deps.socketFactory ?? browserSocketFactory;
    this.pcFactory = deps.pcFactory ?? browserPcFactory;
    this.log = deps.log ?? ((...a) => console.warn('[plenum]', ...a));
    this.snap = {
      phase: 'connecting',
      self: null,
      roster: emptyRoster,
      streams: new Map(),
      muted: opts.muted ?? false,
      cameraOff: opts.cameraOff ?? false,
      fatal: null,
      notice: null,
    };
    this.applyLocalTrackState();
  }

  // ---- store interface for React ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snap;

  private set(patch: Partial<SessionSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l();
  }

  // ---- actions ----

  /** Connect and send `join`. */
  start(): void {
    if (this.signaling) return;
    this.t0 = performance.now();
    const sig = new SignalingClient(this.opts.wsUrl, this.socketFactory, {
      onClose: ({ wasOpen }) => this.onSocketClosed(wasOpen),
      onMalformed: (text) => this.log('malformed frame', text.slice(0, 200)),
    });
    this.signaling = sig;
    sig
      .on('joined', (m) => {
        this.mark('joined');
        this.set({ phase: 'joined', self: m.you, roster: applyToRoster(this.snap.roster, m) });
        this.startMedia(m.ice_servers);
        this.sendUpdate();
        this.pingTimer = setInterval(() => sig.send({ type: 'ping', id: ++this.pingId }), PING_INTERVAL_MS);
      })
      .on('publish_answer', (m) => {
        this.mark('publish_answer');
        this.publisher?.applyAnswer(m.sdp).catch((e) => this.mediaError('publish_answer', e));
      })
      .on('subscribe_offer', (m) => {
        this.mark('subscribe_offer');
        this.subscriber
          ?.handleOffer(m.sdp, (sdp) => {
            sig.send({ type: 'subscribe_answer', sdp });
            this.mark('subscribe_answer');
          })
          .catch((e) => this.mediaError('subscribe_offer', e));
      })
      .on('participant_joined', (m) => this.set({ roster: applyToRoster(this.snap.roster, m) }))
      .on('participant_updated', (m) => {
        if (m.participant.sid === this.snap.self?.sid) this.set({ self: m.participant });
        else this.set({ roster: applyToRoster(this.snap.roster, m) });
      })
      .on('participant_left', (m) => {
        const streams = new Map(this.snap.streams);
        streams.delete(m.sid);
        for (const [track, sid] of this.trackOwner) if (sid === m.sid) this.trackOwner.delete(track);
        this.set({ roster: applyToRoster(this.snap.roster, m), streams });
      })
      .on('track_published', (m) => this.set({ roster: applyToRoster(this.snap.roster, m) }))
      .on('track_unpublished', (m) => this.set({ roster: applyToRoster(this.snap.roster, m) }))
      .on('pong', () => undefined)
      .on('error', (m) => {
        if (m.fatal) {
          this.fail({ code: m.code, message: m.message });
        } else if (QUIET_CODES.has(m.code)) {
          this.log('server error', m.code, m.message);
        } else {
          this.log('server error', m.code, m.message);
          this.set({ notice: { code: m.code, message: m.message } });
        }
      });
    sig.send({
      type: 'join',
      protocol: PROTOCOL_VERSION,
      room: this.opts.room,
      token: this.opts.token,
      name: this.opts.name,
    });
  }

  setMuted(muted: boolean): void {
    this.set({ muted });
    this.applyLocalTrackState();
    if (this.snap.phase === 'joined') this.signaling?.send({ type: 'update', muted });
  }

  setCameraOff(cameraOff: boolean): void {
    this.set({ cameraOff });
    this.applyLocalTrackState();
    if (this.snap.phase === 'joined') this.signaling?.send({ type: 'update', camera_off: cameraOff });
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  /** Send `leave`, close everything, and end in phase 'left'. */
  leave(): void {
    if (this.snap.phase === 'left') return;
    this.signaling?.send({ type: 'leave' });
    this.teardown();
    this.set({ phase: 'left', streams: new Map(), roster: emptyRoster });
  }

  /** Close without a state change (the component went away). */
  dispose(): void {
    if (this.snap.phase === 'joined' || this.snap.phase === 'connecting') this.signaling?.send({ type: 'leave' });
    this.teardown();
  }

  get localStream(): MediaStream | null {
    return this.opts.localStream;
  }

  /** Inbound RTP statistics of the subscriber connection. */
  async stats(): Promise<InboundStats> {
    const pc = this.subscriber?.pc;
    const report = pc ? await pc.getStats() : null;
    return collectInbound(report, (trackId) => {
      const sid = this.trackOwner.get(trackId);
      if (!sid) return null;
      return { sid, identity: this.snap.roster.bySid[sid]?.identity ?? null };
    });
  }

  /** Connection states and the SDP exchanged, for diagnosing browser tests. */
  connections(): Record<PcTarget, PcDebugInfo | null> {
    return { publisher: pcDebugInfo(this.publisher?.pc), subscriber: pcDebugInfo(this.subscriber?.pc) };
  }

  /** The timeline of this session: [event, ms since start()]. */
  timeline(): Array<[string, number]> {
    return [...this.events];
  }

  // ---- internals ----

  private mark(event: string): void {
    if (this.events.length < 200) this.events.push([event, Math.round(performance.now() - this.t0)]);
  }

  private applyLocalTrackState(): void {
    const s = this.opts.localStream;
    if (!s) return;
    for (const t of s.getAudioTracks()) t.enabled = !this.snap.muted;
    for (const t of s.getVideoTracks()) t.enabled = !this.snap.cameraOff;
  }

  private sendUpdate(): void {
    const s = this.opts.localStream;
    const hasAudio = !!s && s.getAudioTracks().length > 0;
    const hasVideo = !!s && s.getVideoTracks().length > 0;
    const muted = this.snap.muted || !hasAudio;
    const cameraOff = this.snap.cameraOff || !hasVideo;
    if (muted || cameraOff) this.signaling?.send({ type: 'update', muted, camera_off: cameraOff });
  }

  private startMedia(iceServers: RTCIceServer[]): void {
    const sig = this.signaling;
    if (!sig) return;
    const config: RTCConfiguration = { iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
    const callbacks = {
      onCandidate: (target: PcTarget, candidate: string | null) => sig.send({ type: 'ice_candidate', target, candidate }),
      onStateChange: (target: PcTarget, state: RTCPeerConnectionState) => {
        this.mark(`${target}_${state}`);
        if (state === 'failed') {
          this.log(`${target} connection failed`);
          this.set({ notice: { code: 'media_failed', message: `${target} connection failed` } });
        }
      },
    };
    // The subscriber first: the server may offer the others' tracks right after `joined`.
    this.subscriber = new SubscriberConnection(this.pcFactory, config, callbacks, ({ sid, track, stream }) => {
      this.mark(`track_${track.kind}_${sid}`);
      this.trackOwner.set(track.id, sid);
      if (this.snap.streams.get(sid) !== stream) {
        const streams = new Map(this.snap.streams);
        streams.set(sid, stream);
        this.set({ streams });
      }
    });
    const local = this.opts.localStream;
    if (local && local.getTracks().length > 0) {
      const pub = new PublisherConnection(this.pcFactory, config, callbacks);
      this.publisher = pub;
      pub
        .createOffer(local)
        .then((sdp) => {
          if (this.publisher !== pub) return;
          sig.send({ type: 'publish_offer', sdp });
          this.mark('publish_offer');
          pub.offerSent();
        })
        .catch((e) => this.mediaError('publish_offer', e));
    }
  }

  private mediaError(where: string, e: unknown): void {
    this.log(where, e);
    if (this.snap.phase === 'joined') this.set({ notice: { code: 'media_failed', message: String(e) } });
  }

  private onSocketClosed(wasOpen: boolean): void {
    if (this.snap.phase === 'left' || this.snap.phase === 'failed') return;
    this.fail({ code: wasOpen ? 'connection_lost' : 'connection_failed', message: '' });
  }

  private fail(err: SessionError): void {
    if (this.snap.phase === 'left' || this.snap.phase === 'failed') return;
    this.teardown();
    this.set({ phase: 'failed', fatal: err, streams: new Map(), roster: emptyRoster });
  }

  private teardown(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.publisher?.close();
    this.publisher = null;
    this.subscriber?.close();
    this.subscriber = null;
    this.trackOwner.clear();
    this.signaling?.close();
  }
}
