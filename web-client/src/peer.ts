// The two peer connections to the SFU. The publisher offers the local tracks (sendonly) and applies the server's
// answer; the subscriber answers the server's offers, strictly one at a time.

import type { PcTarget } from './protocol';

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

export class PublisherConnection {
  readonly pc: RTCPeerConnection;
  private gate: CandidateGate;

  constructor(factory: PcFactory, config: RTCConfiguration, cb: PeerCallbacks) {
    this.pc = factory(config);
    this.gate = new CandidateGate((c) => cb.onCandidate('publisher', c));
    wire(this.pc, 'publisher', this.gate, cb);
  }

  /** Add the tracks as sendonly transceivers and return the offer to send as `publish_offer`. */
  async createOffer(stream: MediaStream): Promise<string> {
    for (const track of stream.getTracks()) {
      this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return this.pc.localDescription?.sdp ?? offer.sdp ?? '';
  }

  /** Call once the offer went out: queued candidates follow it. */
  offerSent(): void {
    this.gate.release();
  }

  async applyAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
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
  track: MediaStreamTrack;
  stream: MediaStream;
}

export class SubscriberConnection {
  readonly pc: RTCPeerConnection;
  private gate: CandidateGate;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

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
      onTrack({ sid: stream.id, track: ev.track, stream });
    };
  }

  /**
   * Queue one server offer. Offers are applied one after another; `sendAnswer` is called with each answer.
   * Resolves when this offer was handled; rejects if it could not be.
   */
  handleOffer(sdp: string, sendAnswer: (sdp: string) => void): Promise<void> {
    const run = async () => {
      if (this.closed) return;
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
