// One publish offer at a time: changes (a screen share, a camera added later, an ICE restart) that come while an
// offer waits for its answer are collected into the next offer.

import type { PublisherConnection, PublishOffer } from './peer';

export class PublishNegotiator {
  private busy = false;
  private again = false;
  private restart = false;
  private closed = false;

  constructor(
    private readonly pub: PublisherConnection,
    private readonly send: (offer: PublishOffer) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Ask for a new offer (now, or after the outstanding one is answered). */
  request(opts: { iceRestart?: boolean } = {}): void {
    if (opts.iceRestart) this.restart = true;
    if (this.busy) {
      this.again = true;
      return;
    }
    void this.run();
  }

  /**
   * The connection to the server was replaced (resume): an outstanding offer may never be answered. Start over
   * with an ICE restart (the outstanding offer is rolled back; a late answer to it is ignored).
   */
  restartAfterResume(): void {
    this.busy = false;
    this.again = false;
    this.request({ iceRestart: true });
  }

  /** A `publish_answer` arrived. */
  async answered(sdp: string): Promise<void> {
    let applied: boolean;
    try {
      applied = await this.pub.applyAnswer(sdp);
    } catch (e) {
      this.busy = false;
      this.onError(e);
      return;
    }
    if (!applied) return; // a late answer to an older offer
    this.busy = false;
    if (this.again || this.restart) {
      this.again = false;
      void this.run();
    }
  }

  /** A `bad_sdp` error: the outstanding offer will not be answered. */
  failed(): void {
    this.busy = false;
  }

  close(): void {
    this.closed = true;
  }

  get pending(): boolean {
    return this.busy;
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    this.busy = true;
    const iceRestart = this.restart;
    this.restart = false;
    try {
      const offer = await this.pub.createOffer(iceRestart);
      if (this.closed) return;
      this.send(offer);
      this.pub.offerSent();
    } catch (e) {
      this.busy = false;
      this.onError(e);
    }
  }
}
