// The two peer connections to the SFU. The publisher offers the local tracks (sendonly) and applies the server's
// answer; the subscriber answers the server's offers, strictly one at a time.

import type { PcTarget, TrackSource } from './protocol';
import { iceUfrag, msidsByMid, publisherTrackId } from './sdpInfo';

export type PcFactory = (config: RTCConfiguration) => RTCPeerConnection;
export const browserPcFactory: PcFactory = (config) => new RTCPeerConnection(config);

/** Forwards local ICE candidates, but only after the description they belong to was sent. */
class CandidateGate {
  private open = false;
  private queued: (string | null)[] = [];
  constructor(private send: (candidate: string | null) => void) {}
  push(candidate: string | null): void {
    if (this.open) this.send(candidate);
    else this.queued.push(candidate);
  }
  release(): void {
    if (this.open) return;
    this.open = true;
    for (const c of this.queued) this.send(c);
    this.queued = [];
  }
}

export interface PeerCallbacks {
  onCandidate: (target: PcTarget, candidate: string | null) => void;
  onStateChange?: (target: PcTarget, state: RTCPeerConnectionState) => void;
}

function wire(pc: RTCPeerConnection, target: PcTarget, gate: CandidateGate, cb: PeerCallbacks): void {
  pc.onicecandidate = (ev) => {
    const c = ev.candidate?.candidate;
    gate.push(c ? c : null);
  };
  pc.onconnectionstatechange = () => cb.onStateChange?.(target, pc.connectionState);
}

const isScreen = (s: TrackSource) => s === 'screen' || s === 'screen_audio';

/**
 * The camera's simulcast layers, lowest first: the SFU forwards one of them to each subscriber (by bandwidth and
 * tile size) and asks to pause those nobody receives. Rids `l`/`m`/`h` are what the SFU expects (docs/media.md).
 * A capture below 1280x720 makes the browser drop the layers it cannot scale down to.
 */
export const CAMERA_SIMULCAST: readonly RTCRtpEncodingParameters[] = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export interface PublishOffer {
  sdp: string;
  /** mid → source of every transceiver with a mid. */
  sources: Record<string, TrackSource>;
}

export class PublisherConnection {
  readonly pc: RTCPeerConnection;
  private gate: CandidateGate;
  private bySource = new Map<TrackSource, RTCRtpTransceiver>();
  /** While an ICE-restart offer waits for its answer: the SFU's ufrag before it (answers with it are stale). */
  private restartFrom: string | null = null;

  constructor(factory: PcFactory, config: RTCConfiguration, cb: PeerCallbacks) {
    this.pc = factory(config);
    this.gate = new CandidateGate((c) => cb.onCandidate('publisher', c));
    wire(this.pc, 'publisher', this.gate, cb);
  }

  /**
   * What one source sends. A new source gets a sendonly transceiver; an existing one has its track replaced (no
   * renegotiation); a screen share that ends turns its transceiver inactive, and a new share reuses it.
   * Resolves to whether the change needs a new offer.
   */
  async setTrack(source: TrackSource, track: MediaStreamTrack | null, stream: MediaStream | null): Promise<boolean> {
    const tr = this.bySource.get(source);
    if (!tr) {
      if (!track) return false;
      this.bySource.set(source, this.pc.addTransceiver(track, this.transceiverInit(source, stream)));
      return true;
    }
    await tr.sender.replaceTrack(track);
    const direction: RTCRtpTransceiverDirection = track || !isScreen(source) ? 'sendonly' : 'inactive';
    if (tr.direction === direction) return false;
    tr.direction = direction;
    return true;
  }

  /** How a source's transceiver is created: the camera is sent in three simulcast layers. */
  protected transceiverInit(source: TrackSource, stream: MediaStream | null): RTCRtpTransceiverInit {
    const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: stream ? [stream] : [] };
    if (source === 'camera') init.sendEncodings = CAMERA_SIMULCAST.map((e) => ({ ...e }));
    return init;
  }

  /**
   * The SFU says which simulcast encodings of the track with `mid` anybody receives: stop encoding the others.
   * (Without simulcast there are no rids and nothing changes.)
   */
  async setLayers(mid: string, active: ReadonlyArray<{ rid: string; active: boolean }>): Promise<void> {
    const tr = [...this.bySource.values()].find((t) => t.mid === mid);
    if (!tr?.sender.getParameters) return;
    const params = tr.sender.getParameters();
    let changed = false;
    for (const enc of params.encodings ?? []) {
      const want = active.find((a) => a.rid === enc.rid);
      if (want && enc.active !== want.active) {
        enc.active = want.active;
        changed = true;
      }
    }
    if (changed) await tr.sender.setParameters(params);
  }

  /**
   * Whether a source sends at all (all its encodings active or none). A muted microphone sends nothing: no
   * silence packets, so no bandwidth up and no transport feedback down (measured: ~10 kbit/s of feedback towards a
   * muted participant, a seventh of a 70 kbit/s link).
   */
  async setSending(source: TrackSource, on: boolean): Promise<void> {
    const sender = this.bySource.get(source)?.sender;
    if (!sender?.getParameters) return;
    const params = sender.getParameters();
    const encodings = params.encodings ?? [];
    if (encodings.every((e) => e.active === on)) return;
    for (const e of encodings) e.active = on;
    await sender.setParameters(params);
  }

  /** The sender of a source, if it has one (for stats and encodings). */
  sender(source: TrackSource): RTCRtpSender | null {
    return this.bySource.get(source)?.sender ?? null;
  }

  /**
   * Make the next offer (to send as `publish_offer`). An offer still waiting for its answer is rolled back first;
   * with `iceRestart` the offer carries new ICE credentials.
   */
  async createOffer(iceRestart = false): Promise<PublishOffer> {
    if (this.pc.signalingState === 'have-local-offer') {
      await this.pc.setLocalDescription({ type: 'rollback' });
    }
    const remoteUfrag = iceUfrag(this.pc.remoteDescription?.sdp);
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await this.pc.setLocalDescription(offer);
    this.restartFrom = iceRestart ? remoteUfrag : null;
    return { sdp: this.pc.localDescription?.sdp ?? offer.sdp ?? '', sources: this.sourcesByMid() };
  }

  /** Call once the offer went out: queued candidates follow it. */
  offerSent(): void {
    this.gate.release();
  }

  /** Apply the SFU's answer. Resolves false (and changes nothing) for an answer to an older offer. */
  async applyAnswer(sdp: string): Promise<boolean> {
    if (this.pc.signalingState !== 'have-local-offer') return false;
    if (this.restartFrom !== null && iceUfrag(sdp) === this.restartFrom) return false;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.restartFrom = null;
    return true;
  }

  get awaitingAnswer(): boolean {
    return this.pc.signalingState === 'have-local-offer';
  }

  private sourcesByMid(): Record<string, TrackSource> {
    const out: Record<string, TrackSource> = {};
    for (const [source, tr] of this.bySource) if (tr.mid !== null && tr.mid !== undefined) out[tr.mid] = source;
    return out;
  }

  close(): void {
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

export interface RemoteTrackEvent {
  /** The publishing participant's sid (the track's msid stream id). */
  sid: string;
  /** The publisher's track_id (from the msid track id `<sid>-<track_id>`), or null if unknown. */
  trackId: string | null;
  track: MediaStreamTrack;
  stream: MediaStream;
}

export class SubscriberConnection {
  readonly pc: RTCPeerConnection;
  private gate: CandidateGate;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Publisher track_id by subscriber mid, from the offers. */
  private trackIdByMid = new Map<string, string>();

  constructor(
    factory: PcFactory,
    config: RTCConfiguration,
    cb: PeerCallbacks,
    onTrack: (ev: RemoteTrackEvent) => void,
  ) {
    this.pc = factory(config);
    this.gate = new CandidateGate((c) => cb.onCandidate('subscriber', c));
    wire(this.pc, 'subscriber', this.gate, cb);
    this.pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream) return; // every track from the SFU carries its publisher's sid as stream id
      const mid = ev.transceiver?.mid;
      const trackId = mid ? (this.trackIdByMid.get(mid) ?? null) : null;
      onTrack({ sid: stream.id, trackId, track: ev.track, stream });
    };
  }

  /**
   * Queue one server offer. Offers are applied one after another; `sendAnswer` is called with each answer.
   * Resolves when this offer was handled; rejects if it could not be.
   */
  handleOffer(sdp: string, sendAnswer: (sdp: string) => void): Promise<void> {
    const run = async () => {
      if (this.closed) return;
      for (const [mid, msid] of msidsByMid(sdp)) {
        const trackId = publisherTrackId(msid);
        if (trackId) this.trackIdByMid.set(mid, trackId);
      }
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      if (this.closed) return;
      sendAnswer(this.pc.localDescription?.sdp ?? answer.sdp ?? '');
      this.gate.release();
    };
    const result = this.chain.then(run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.closed = true;
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}
