// The media side of one participant: publisher and subscriber connections to the SFU, what is sent on them, what
// is received, and ICE restarts when the network changed. Signaling is the session's business: this sends
// through `send` and is fed the server's media messages.

import type { ClientMessage, PcTarget, TrackSource } from './protocol';
import { PublisherConnection, SubscriberConnection, type PcFactory } from './peer';
import { PublishNegotiator } from './negotiation';
import { RemoteMedia } from './remoteMedia';
import { collectInbound, type InboundStats } from './stats';
import { ownQuality, type Quality } from './quality';
import type { Roster } from './roster';

/** A connection disconnected this long gets an ICE restart. */
const DISCONNECTED_RESTART_MS = 4000;
/** No more than one ICE restart per connection in this time. */
const RESTART_SPACING_MS = 5000;
/**
 * After a resume, a connection that has not found its way back by itself within this time gets an ICE restart
 * (when the network came back on the same path, the old candidate pair recovers on its own and needs none).
 */
const RESUME_ICE_CHECK_MS = 2000;

export interface MediaLinkHooks {
  send: (msg: ClientMessage) => void;
  /** Remote media or a connection state changed. */
  changed: () => void;
  /** Whether signaling is up (restarts wait for it otherwise). */
  online: () => boolean;
  log: (...args: unknown[]) => void;
  mark: (event: string) => void;
  /** A problem worth showing (error code of i18n). */
  notice: (code: string) => void;
}

export class MediaLink {
  readonly remote = new RemoteMedia();
  private publisher: PublisherConnection | null = null;
  private negotiator: PublishNegotiator | null = null;
  private subscriber: SubscriberConnection;
  private states: Record<PcTarget, RTCPeerConnectionState> = { publisher: 'new', subscriber: 'new' };
  private disconnectTimers: Partial<Record<PcTarget, ReturnType<typeof setTimeout>>> = {};
  private lastRestart: Record<PcTarget, number> = { publisher: 0, subscriber: 0 };
  private resumeCheck: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** What each source sends. */
  private local = new Map<TrackSource, { track: MediaStreamTrack | null; stream: MediaStream | null }>();
  /** The microphone is muted: its sender sends nothing. */
  private micMuted = false;

  constructor(
    private readonly pcFactory: PcFactory,
    private config: RTCConfiguration,
    private readonly hooks: MediaLinkHooks,
  ) {
    this.subscriber = new SubscriberConnection(pcFactory, config, this.callbacks, ({ sid, trackId, track }) => {
      hooks.mark(`track_${track.kind}_${sid}`);
      this.remote.add(sid, trackId, track);
      track.addEventListener?.('ended', () => hooks.changed());
      hooks.changed();
    });
  }

  private callbacks = {
    onCandidate: (target: PcTarget, candidate: string | null) => this.hooks.send({ type: 'ice_candidate', target, candidate }),
    onStateChange: (target: PcTarget, state: RTCPeerConnectionState) => this.onState(target, state),
  };

  // ---- sending ----

  /** Send `track` for `source` (null: stop sending it). Renegotiates when needed. */
  async setLocalTrack(source: TrackSource, track: MediaStreamTrack | null, stream: MediaStream | null): Promise<void> {
    await this.setLocalTracks([[source, track, stream]]);
  }

  /** Several sources at once, in one offer (joining: microphone and camera together). */
  async setLocalTracks(changes: ReadonlyArray<readonly [TrackSource, MediaStreamTrack | null, MediaStream | null]>): Promise<void> {
    let renegotiate = false;
    for (const [source, track, stream] of changes) {
      this.local.set(source, { track, stream });
      if (!this.publisher) {
        if (!track) continue;
        this.createPublisher();
      }
      renegotiate = (await this.publisher!.setTrack(source, track, stream)) || renegotiate;
      if (source === 'microphone' && track) await this.publisher!.setSending('microphone', !this.micMuted);
    }
    if (renegotiate && !this.closed) this.negotiator?.request();
  }

  /** Mute or unmute: a muted microphone's sender stops sending (no silence packets). */
  async setMicMuted(muted: boolean): Promise<void> {
    this.micMuted = muted;
    await this.publisher?.setSending('microphone', !muted);
  }

  private createPublisher(): void {
    const pub = new PublisherConnection(this.pcFactory, this.config, this.callbacks);
    this.publisher = pub;
    this.negotiator = new PublishNegotiator(
      pub,
      (offer) => {
        this.hooks.send({ type: 'publish_offer', sdp: offer.sdp, sources: offer.sources });
        this.hooks.mark('publish_offer');
      },
      (e) => this.error('publish_offer', e),
    );
  }

  // ---- the server's media messages ----

  handlePublishAnswer(sdp: string): void {
    this.hooks.mark('publish_answer');
    void this.negotiator?.answered(sdp);
  }

  handleSubscribeOffer(sdp: string): void {
    this.hooks.mark('subscribe_offer');
    this.subscriber
      .handleOffer(sdp, (answer) => {
        this.hooks.send({ type: 'subscribe_answer', sdp: answer });
        this.hooks.mark('subscribe_answer');
      })
      .catch((e) => this.error('subscribe_offer', e));
  }

  /** `publisher_layers`: which simulcast encodings of an own track anybody receives. */
  handlePublisherLayers(trackId: string, active: ReadonlyArray<{ rid: string; active: boolean }>): void {
    this.publisher?.setLayers(trackId, active).catch((e) => this.hooks.log('setLayers', e));
  }

  /** A `bad_sdp` error: an outstanding publish offer will not be answered. */
  handleBadSdp(): void {
    this.negotiator?.failed();
  }

  /** Fresh TURN credentials (from `resumed`): ICE restarts and connections made from now on use them. */
  setIceServers(iceServers: RTCIceServer[]): void {
    this.config = { ...this.config, iceServers };
    for (const pc of [this.publisher?.pc, this.subscriber.pc]) {
      if (!pc || pc.signalingState === 'closed' || typeof pc.setConfiguration !== 'function') continue;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
      } catch (e) {
        this.hooks.log('setConfiguration', e);
      }
    }
  }

  /**
   * Signaling came back on a new connection (resume). A publish offer that was waiting for its answer may be lost:
   * negotiate again, with an ICE restart. Connections still down shortly after get an ICE restart.
   */
  afterResume(): void {
    if (this.negotiator?.pending) {
      this.lastRestart.publisher = Date.now();
      this.hooks.mark('ice_restart_publisher');
      this.negotiator.restartAfterResume();
    }
    if (this.resumeCheck) clearTimeout(this.resumeCheck);
    this.resumeCheck = setTimeout(() => {
      this.resumeCheck = null;
      for (const target of ['publisher', 'subscriber'] as const) {
        const state = this.states[target];
        if ((target === 'subscriber' || this.publisher) && (state === 'disconnected' || state === 'failed')) this.restart(target);
      }
    }, RESUME_ICE_CHECK_MS);
  }

  // ---- state ----

  /** Whether a connection is down or reconnecting. */
  get troubled(): boolean {
    const bad = (s: RTCPeerConnectionState) => s === 'disconnected' || s === 'failed';
    return bad(this.states.subscriber) || (this.publisher !== null && bad(this.states.publisher));
  }

  get publishing(): boolean {
    return this.publisher !== null;
  }

  pcs(): Record<PcTarget, RTCPeerConnection | undefined> {
    return { publisher: this.publisher?.pc, subscriber: this.subscriber.pc };
  }

  /** Inbound RTP statistics; `owner` names each received track's participant. */
  async inbound(roster: Roster): Promise<InboundStats> {
    const report = await this.subscriber.pc.getStats().catch(() => null);
    return collectInbound(report, (trackId) => {
      const who = this.remote.owner(trackId, roster);
      return who ? { sid: who.sid, identity: roster.bySid[who.sid]?.identity ?? null } : null;
    });
  }

  /** The own upstream's quality as the SFU reports it. */
  async upstreamQuality(): Promise<Quality> {
    if (!this.publisher) return 'unknown';
    const report = await this.publisher.pc.getStats().catch(() => null);
    return ownQuality(report);
  }

  close(): void {
    this.closed = true;
    for (const t of Object.values(this.disconnectTimers)) clearTimeout(t);
    if (this.resumeCheck) clearTimeout(this.resumeCheck);
    this.negotiator?.close();
    this.publisher?.close();
    this.subscriber.close();
    this.remote.clear();
  }

  // ---- internals ----

  private onState(target: PcTarget, state: RTCPeerConnectionState): void {
    this.states[target] = state;
    this.hooks.mark(`${target}_${state}`);
    clearTimeout(this.disconnectTimers[target]);
    if (state === 'failed') this.restart(target);
    if (state === 'disconnected') {
      this.disconnectTimers[target] = setTimeout(() => {
        if (this.states[target] === 'disconnected') this.restart(target);
      }, DISCONNECTED_RESTART_MS);
    }
    this.hooks.changed();
  }

  /** Restart ICE on one connection now (diagnostics and tests: `window.__plenum.restartIce`). */
  forceRestart(target: PcTarget): void {
    this.lastRestart[target] = 0;
    this.restart(target);
  }

  /** ICE restart of one connection (the server offers anew for the subscriber). */
  private restart(target: PcTarget): void {
    if (this.closed || !this.hooks.online()) return; // a resume restarts both
    const now = Date.now();
    if (now - this.lastRestart[target] < RESTART_SPACING_MS) {
      this.disconnectTimers[target] = setTimeout(() => {
        if (this.states[target] === 'failed' || this.states[target] === 'disconnected') this.restart(target);
      }, RESTART_SPACING_MS);
      return;
    }
    this.lastRestart[target] = now;
    this.hooks.log(`${target} connection ${this.states[target]}: restarting ICE`);
    this.hooks.mark(`ice_restart_${target}`);
    if (target === 'publisher') this.negotiator?.request({ iceRestart: true });
    else this.hooks.send({ type: 'restart_ice' });
  }

  private error(where: string, e: unknown): void {
    this.hooks.log(where, e);
    if (!this.closed) this.hooks.notice('media_failed');
  }
}
