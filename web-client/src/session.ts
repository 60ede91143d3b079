// One stay in a meeting: the signaling socket (with reconnect and resume), the media link to the SFU, and what the
// client knows about the room. UI components read snapshots (useSyncExternalStore) and call the actions; no WebRTC
// in components.

import { MAX_CHAT_CHARS, PROTOCOL_VERSION, type ClientMessage, type ModerateAction, type ModeratedMsg, type PcTarget, type ServerMessage } from './protocol';
import { SignalingClient, browserSocketFactory, type SocketFactory } from './signaling';
import { browserPcFactory, type PcFactory } from './peer';
import { applyRoomMessage, emptyRoom, type RoomModel } from './roomState';
import { GIVE_UP_AFTER_MS, Heartbeat, OPEN_TIMEOUT_MS, reconnectDelay } from './connection';
import { MediaLink } from './mediaLink';
import { StatsLoop } from './statsLoop';
import { VideoSizer, emptyView, type View } from './videoSizes';
import type { InboundStats } from './stats';
import { pcPath, type SelectedPath } from './path';
import { pcDebugInfo, type PcDebugInfo, type SessionDeps, type SessionError, type SessionOptions, type SessionSnapshot } from './sessionTypes';

export type { LocalMediaSource, PcDebugInfo, Phase, SessionDeps, SessionError, SessionOptions, SessionSnapshot } from './sessionTypes';

// Non-fatal codes that are expected in normal operation and not shown to people.
const QUIET_CODES = new Set(['bad_candidate', 'unexpected_answer', 'rate_limited', 'resume_failed', 'unknown_track']);
/** Layout changes settle this long before the video sizes go out. */
const SIZES_DELAY_MS = 250;
/** Messages kept while reconnecting, sent once back. */
const OUTBOX_MAX = 50;

export class MeetingSession {
  private snap: SessionSnapshot;
  private listeners = new Set<() => void>();
  private signaling: SignalingClient | null = null;
  private link: MediaLink | null = null;
  private readonly heartbeat: Heartbeat;
  private readonly stats: StatsLoop;
  private resumeToken: string | null = null;
  private outbox: ClientMessage[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private lostAt = 0;
  private attempt = 0;
  private pingId = 0;
  private screenStream: MediaStream | null = null;
  /** A moderator removed us: how to show the `removed` error that follows. */
  private removedAs: string | null = null;
  private readonly sizer = new VideoSizer();
  private view: View = emptyView;
  private sizesTimer: ReturnType<typeof setTimeout> | null = null;
  /** Room events received, by type and sid (for tests: nobody saw a leave during a reconnect). */
  private seenEvents: Array<[string, string]> = [];
  /** What happened when (ms since `start()`), for diagnosing join latency; bounded. */
  private readonly events: Array<[string, number]> = [];
  private t0 = 0;
  private readonly socketFactory: SocketFactory;
  private readonly pcFactory: PcFactory;
  private readonly getDisplayMedia: () => Promise<MediaStream>;
  private readonly log: (...args: unknown[]) => void;

  constructor(private opts: SessionOptions, deps: SessionDeps = {}) {
    this.socketFactory = deps.socketFactory ?? browserSocketFactory;
    this.pcFactory = deps.pcFactory ?? browserPcFactory;
    this.getDisplayMedia = deps.getDisplayMedia ?? (() => navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false }));
    this.log = deps.log ?? ((...a) => console.warn('[plenum]', ...a));
    const local = opts.local?.getSnapshot();
    this.snap = {
      phase: 'connecting',
      room: emptyRoom,
      media: new Map(),
      muted: local ? local.muted : true,
      cameraOff: local ? local.cameraOff : true,
      screen: null,
      quality: {},
      ownQuality: 'unknown',
      speaking: new Set(),
      activeSpeaker: null,
      mediaTrouble: false,
      pausedVideo: new Set(),
      drainingUntil: null,
      moderatorsPresent: false,
      lobby: [],
      locked: false,
      fatal: null,
      notice: null,
    };
    this.heartbeat = new Heartbeat(
      () => this.signaling?.send({ type: 'ping', id: ++this.pingId }),
      () => this.connectionLost('heartbeat'),
    );
    this.stats = new StatsLoop(
      () => this.link,
      () => this.snap.room.roster,
      (patch) => this.set(patch),
    );
    if (opts.local) opts.local.onTrack = (source, track) => void this.link?.setLocalTrack(source, track, opts.local?.getSnapshot().preview ?? null);
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
    this.openSignaling();
    this.signaling!.send({ type: 'join', protocol: PROTOCOL_VERSION, room: this.opts.room, token: this.opts.token, name: this.opts.name });
  }

  setMuted(muted: boolean): void {
    this.opts.local?.setMuted(muted);
    this.link?.setMicMuted(muted).catch((e) => this.log('setMicMuted', e));
    this.set({ muted });
    this.sendOrQueue({ type: 'update', muted });
  }

  async setCameraOff(cameraOff: boolean): Promise<void> {
    this.set({ cameraOff });
    this.sendOrQueue({ type: 'update', camera_off: cameraOff });
    await this.opts.local?.setCameraOff(cameraOff);
  }

  /** Send a chat message (trimmed; too long or empty ones are refused: returns false). */
  sendChat(text: string): boolean {
    const t = text.trim();
    if (t.length === 0 || [...t].length > MAX_CHAT_CHARS) return false;
    this.sendOrQueue({ type: 'chat', text: t });
    return true;
  }

  setHand(raised: boolean): void {
    this.sendOrQueue({ type: 'hand', raised });
  }

  /** A moderator admits or denies someone waiting in the lobby (`null`: everyone). */
  answerLobby(sid: string | null, admit: boolean): void {
    this.sendOrQueue(sid === null ? { type: 'lobby_response', all: true, admit } : { type: 'lobby_response', sid, admit });
  }

  /** A moderator acts on a participant or the room (the server checks the grant). */
  moderate(action: ModerateAction, sid?: string, ban?: boolean): void {
    this.sendOrQueue({ type: 'moderate', action, ...(sid ? { sid } : {}), ...(ban ? { ban: true } : {}) });
  }

  /** A moderator lowers someone else's hand (the server checks the grant). */
  lowerHandOf(sid: string): void {
    this.sendOrQueue({ type: 'hand', raised: false, sid });
  }

  /** Share the screen (the browser asks which one). Resolves false if refused or impossible. */
  async startScreenShare(): Promise<boolean> {
    if (this.screenStream) return true;
    let stream: MediaStream;
    try {
      stream = await this.getDisplayMedia();
    } catch (e) {
      this.log('getDisplayMedia', e);
      return false;
    }
    const track = stream.getVideoTracks()[0];
    if (!track || this.snap.phase === 'left' || this.snap.phase === 'failed') {
      stream.getTracks().forEach((t) => t.stop());
      return false;
    }
    this.screenStream = stream;
    track.addEventListener?.('ended', () => this.stopScreenShare());
    this.set({ screen: stream });
    await this.link?.setLocalTrack('screen', track, stream);
    return true;
  }

  stopScreenShare(): void {
    const stream = this.screenStream;
    if (!stream) return;
    this.screenStream = null;
    stream.getTracks().forEach((t) => t.stop());
    this.set({ screen: null });
    void this.link?.setLocalTrack('screen', null, null);
  }

  /** What the layout shows: the SFU sends each video at that size, and nothing for videos not on screen. */
  setView(view: View): void {
    this.view = view;
    this.visible = Object.keys(view.tiles);
    this.scheduleSizes();
  }
  /** Sids whose tiles are on screen. */
  visible: readonly string[] = [];

  dismissNotice(): void {
    this.set({ notice: null });
  }

  /** Send `leave`, close everything, and end in phase 'left'. */
  leave(): void {
    if (this.snap.phase === 'left') return;
    this.signaling?.send({ type: 'leave' });
    this.teardown();
    this.set({ phase: 'left', media: new Map() });
  }

  /** Close without a state change (the component went away). */
  dispose(): void {
    if (this.snap.phase !== 'left' && this.snap.phase !== 'failed') this.signaling?.send({ type: 'leave' });
    this.teardown();
  }

  get localPreview(): MediaStream | null {
    return this.opts.local?.getSnapshot().preview ?? null;
  }

  get canPublish(): boolean {
    return this.opts.local !== null;
  }

  // ---- debug (window.__plenum) ----

  async inboundStats(): Promise<InboundStats> {
    return this.link ? this.link.inbound(this.snap.room.roster) : { inboundAudio: [], inboundVideo: [] };
  }

  connections(): Record<PcTarget, PcDebugInfo | null> {
    const pcs = this.link?.pcs();
    return { publisher: pcDebugInfo(pcs?.publisher), subscriber: pcDebugInfo(pcs?.subscriber) };
  }

  /** The network path (selected ICE candidate pair) of each connection. */
  async paths(): Promise<Record<PcTarget, SelectedPath | null>> {
    const pcs = this.link?.pcs();
    const [publisher, subscriber] = await Promise.all([pcPath(pcs?.publisher), pcPath(pcs?.subscriber)]);
    return { publisher, subscriber };
  }

  timeline(): Array<[string, number]> {
    return [...this.events];
  }

  restartIce(target: PcTarget): void {
    this.link?.forceRestart(target);
  }

  /** The microphone's sender on the publisher connection (for browser tests). */
  micSender(): RTCRtpSender | null {
    return this.link?.pcs().publisher?.getSenders().find((s) => s.track?.kind === 'audio') ?? null;
  }

  seen(): Array<[string, string]> {
    return [...this.seenEvents];
  }

  // ---- signaling ----

  private openSignaling(): void {
    const sig = new SignalingClient(this.opts.wsUrl, this.socketFactory, {
      onClose: ({ wasOpen }) => {
        if (this.signaling === sig) this.socketClosed(wasOpen);
      },
      onMalformed: (text) => this.log('malformed frame', text.slice(0, 200)),
      onFrame: () => this.heartbeat.heard(),
    });
    this.signaling = sig;
    const on = (msg: ServerMessage) => {
      if (this.signaling === sig) this.handle(msg);
    };
    for (const type of ['joined', 'resumed', 'publish_answer', 'subscribe_offer', 'participant_joined', 'participant_updated', 'participant_left', 'track_published', 'track_unpublished', 'chat', 'hand_changed', 'speakers', 'video_paused', 'publisher_layers', 'draining', 'lobby', 'lobby_waiting', 'room_locked', 'moderated', 'error'] as const) {
      sig.on(type, on as never);
    }
  }

  private handle(msg: ServerMessage): void {
    if (msg.type.startsWith('participant_') || msg.type.startsWith('track_') || msg.type === 'video_paused') this.noteSeen(msg);
    switch (msg.type) {
      case 'joined':
        this.mark('joined');
        this.resumeToken = msg.resume_token || null;
        this.setRoom(applyRoomMessage(this.snap.room, msg));
        this.online();
        this.startMedia(msg.ice_servers, msg.ice_transport_policy ?? 'all');
        this.sendOwnState();
        return;
      case 'resumed':
        this.mark('resumed');
        // The server tells again which videos are paused now.
        this.set({ pausedVideo: new Set() });
        this.setRoom(applyRoomMessage(this.snap.room, msg));
        this.online();
        this.link?.setIceServers(msg.ice_servers);
        this.link?.afterResume();
        return;
      case 'publish_answer':
        return this.link?.handlePublishAnswer(msg.sdp);
      case 'subscribe_offer':
        return this.link?.handleSubscribeOffer(msg.sdp);
      case 'participant_left':
        this.link?.remote.removeParticipant(msg.sid);
        this.stats.forget(msg.sid);
        this.setRoom(applyRoomMessage(this.snap.room, msg));
        return;
      case 'track_unpublished':
        this.link?.remote.dropTrack(msg.sid, msg.track_id);
        this.setRoom(applyRoomMessage(this.snap.room, msg));
        return;
      case 'speakers':
        this.stats.serverSpeakers(msg.speaking, msg.dominant);
        return;
      case 'video_paused': {
        const paused = new Set(this.snap.pausedVideo);
        const key = `${msg.sid}/${msg.track_id}`;
        if (msg.paused) paused.add(key);
        else paused.delete(key);
        this.set({ pausedVideo: paused });
        return;
      }
      case 'publisher_layers':
        return this.link?.handlePublisherLayers(msg.track_id, msg.active);
      case 'draining':
        this.set({ drainingUntil: Date.now() + msg.seconds * 1000 });
        return;
      case 'lobby_waiting':
        this.heartbeat.start();
        this.set({ phase: 'lobby', moderatorsPresent: msg.moderators_present });
        return;
      case 'lobby':
        this.set({ lobby: msg.waiting });
        return;
      case 'room_locked':
        this.set({ locked: msg.locked });
        return;
      case 'moderated':
        return this.moderated(msg);
      case 'error':
        return this.handleError(msg.code, msg.message, msg.fatal);
      default:
        this.setRoom(applyRoomMessage(this.snap.room, msg));
    }
  }

  /** A moderator acted on us: turn off what they stopped (the SFU already stopped forwarding it) and say so. */
  private moderated(msg: ModeratedMsg): void {
    if (msg.action === 'mute') this.setMuted(true);
    if (msg.action === 'stop_video') void this.setCameraOff(true);
    if (msg.action === 'stop_screen') this.stopScreenShare();
    if (msg.action === 'remove') {
      // The fatal `removed` error follows: shown as this.
      this.removedAs = msg.ban ? 'moderated_ban' : 'removed_by_moderator';
      return;
    }
    this.set({ notice: { code: `moderated_${msg.action}`, message: '' } });
  }

  private handleError(code: string, message: string, fatal: boolean): void {
    if (fatal && code === 'removed' && this.removedAs) return this.fail({ code: this.removedAs, message });
    if (fatal) return this.fail({ code, message });
    if (code === 'resume_failed') return this.rejoin();
    if (code === 'bad_sdp') this.link?.handleBadSdp();
    this.log('server error', code, message);
    if (!QUIET_CODES.has(code)) this.set({ notice: { code, message } });
  }

  private setRoom(room: RoomModel): void {
    if (room === this.snap.room) return;
    const rosterChanged = room.roster !== this.snap.room.roster;
    const media = this.link ? this.link.remote.compute(room.roster) : this.snap.media;
    let pausedVideo = this.snap.pausedVideo;
    if (rosterChanged && pausedVideo.size > 0) {
      pausedVideo = new Set([...pausedVideo].filter((k) => {
        const [sid, track] = k.split('/');
        return !!room.roster.bySid[sid!]?.tracks[track!];
      }));
    }
    this.set({ room, media, pausedVideo });
    if (rosterChanged) this.scheduleSizes();
  }

  private scheduleSizes(): void {
    if (this.sizesTimer) return;
    this.sizesTimer = setTimeout(() => {
      this.sizesTimer = null;
      if (this.snap.phase !== 'joined' || !this.signaling?.isOpen) return;
      for (const sizes of this.sizer.changes(this.snap.room.roster, this.view)) this.signaling.send({ type: 'video_sizes', sizes });
    }, SIZES_DELAY_MS);
  }

  /** Back in the room (joined or resumed). */
  private online(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.openTimer) clearTimeout(this.openTimer);
    this.reconnectTimer = this.openTimer = null;
    this.attempt = 0;
    this.heartbeat.start();
    this.stats.start();
    const queued = this.outbox;
    this.outbox = [];
    for (const m of queued) this.signaling?.send(m);
    this.set({ phase: 'joined' });
    this.scheduleSizes();
  }

  private sendOrQueue(msg: ClientMessage): void {
    if (this.snap.phase === 'joined' && this.signaling?.isOpen) this.signaling.send(msg);
    else if (this.snap.phase === 'connecting' || this.snap.phase === 'reconnecting') {
      if (this.outbox.length < OUTBOX_MAX) this.outbox.push(msg);
    }
  }

  /** The own media state after (re)joining: a new participant starts unmuted with the camera on. */
  private sendOwnState(): void {
    const local = this.opts.local?.getSnapshot();
    const muted = this.snap.muted || !local?.mic;
    const cameraOff = this.snap.cameraOff || !local?.camera;
    if (muted || cameraOff) this.signaling?.send({ type: 'update', muted, camera_off: cameraOff });
  }

  private startMedia(iceServers: RTCIceServer[], iceTransportPolicy: RTCIceTransportPolicy): void {
    this.link?.close();
    const config: RTCConfiguration = { iceServers, iceTransportPolicy, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
    const link = new MediaLink(this.pcFactory, config, {
      send: (m) => this.signaling?.send(m),
      changed: () => {
        if (this.link !== link) return;
        this.set({ media: link.remote.compute(this.snap.room.roster), mediaTrouble: link.troubled });
      },
      online: () => this.snap.phase === 'joined',
      log: this.log,
      mark: (e) => this.mark(e),
      notice: (code) => this.set({ notice: { code, message: '' } }),
    });
    this.link = link;
    const local = this.opts.local?.getSnapshot();
    void link.setMicMuted(this.snap.muted);
    const stream = local?.preview ?? null;
    const tracks: Array<readonly ['microphone' | 'camera' | 'screen', MediaStreamTrack | null, MediaStream | null]> = [];
    if (local?.mic) tracks.push(['microphone', local.mic, stream]);
    if (local?.camera) tracks.push(['camera', local.camera, stream]);
    if (this.screenStream) tracks.push(['screen', this.screenStream.getVideoTracks()[0] ?? null, this.screenStream]);
    link.setLocalTracks(tracks).catch((e) => this.log('publish', e));
  }

  // ---- reconnecting ----

  private socketClosed(wasOpen: boolean): void {
    if ((this.snap.phase === 'connecting' || this.snap.phase === 'lobby') && !this.resumeToken) {
      // Never got in: the server is not reachable (or refused us without an error).
      return this.fail({ code: wasOpen ? 'connection_lost' : 'connection_failed', message: '' });
    }
    this.connectionLost('closed');
  }

  private connectionLost(why: string): void {
    if (this.snap.phase === 'left' || this.snap.phase === 'failed') return;
    if (this.snap.phase === 'reconnecting') return this.scheduleAttempt();
    this.mark(`lost_${why}`);
    this.log(`signaling connection lost (${why}); reconnecting`);
    this.heartbeat.stop();
    this.signaling?.close();
    this.lostAt = Date.now();
    this.attempt = 0;
    this.set({ phase: 'reconnecting' });
    this.scheduleAttempt();
  }

  private scheduleAttempt(): void {
    if (this.reconnectTimer || this.snap.phase !== 'reconnecting') return;
    if (Date.now() - this.lostAt > GIVE_UP_AFTER_MS) return this.fail({ code: 'connection_lost', message: '' });
    const delay = reconnectDelay(this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.tryReconnect();
    }, delay);
  }

  private tryReconnect(): void {
    this.signaling?.close();
    this.openSignaling();
    const sig = this.signaling!;
    if (this.resumeToken) {
      sig.send({ type: 'resume', protocol: PROTOCOL_VERSION, room: this.opts.room, resume_token: this.resumeToken });
    } else {
      this.sendJoin();
    }
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = setTimeout(() => {
      this.openTimer = null;
      if (this.signaling === sig && this.snap.phase === 'reconnecting') {
        sig.close();
        this.scheduleAttempt();
      }
    }, OPEN_TIMEOUT_MS);
  }

  /** Nothing to resume: join as a new participant on the same socket, keeping devices, state and chat. */
  private rejoin(): void {
    this.mark('rejoin');
    this.resumeToken = null;
    this.link?.close();
    this.link = null;
    this.sizer.reset();
    this.sendJoin();
  }

  private sendJoin(): void {
    this.signaling?.send({ type: 'join', protocol: PROTOCOL_VERSION, room: this.opts.room, token: this.opts.token, name: this.opts.name });
  }

  // ---- internals ----

  private noteSeen(msg: ServerMessage): void {
    const sid = msg.type === 'participant_joined' ? msg.participant.sid : 'sid' in msg ? String(msg.sid) : '';
    const type = msg.type === 'video_paused' ? `video_paused:${msg.paused}` : msg.type;
    if (this.seenEvents.length < 1000) this.seenEvents.push([type, sid]);
  }

  private mark(event: string): void {
    if (this.events.length < 300) this.events.push([event, Math.round(performance.now() - this.t0)]);
  }

  private fail(err: SessionError): void {
    if (this.snap.phase === 'left' || this.snap.phase === 'failed') return;
    this.teardown();
    this.set({ phase: 'failed', fatal: err, media: new Map() });
  }

  private teardown(): void {
    this.heartbeat.stop();
    this.stats.stop();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.openTimer) clearTimeout(this.openTimer);
    if (this.sizesTimer) clearTimeout(this.sizesTimer);
    this.reconnectTimer = this.openTimer = this.sizesTimer = null;
    this.screenStream?.getTracks().forEach((t) => t.stop());
    this.screenStream = null;
    this.link?.close();
    this.link = null;
    this.signaling?.close();
    if (this.opts.local) this.opts.local.onTrack = null;
  }
}
