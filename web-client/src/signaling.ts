// The signaling WebSocket: typed sending and typed dispatch of server messages (docs/protocol.md).

import type { ClientMessage, ServerMessage, ServerMessageType } from './protocol';
import { parseServerMessage } from './protocolParse';

/** The part of the browser's WebSocket the client uses (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export const browserSocketFactory: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

const OPEN = 1;

/** `ws(s)://<host>/ws` for the page's location. */
export function signalingUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

type HandlerMap = { [K in ServerMessageType]?: (msg: Extract<ServerMessage, { type: K }>) => void };

export interface SignalingEvents {
  /** The socket closed; `wasOpen` tells whether it had ever opened. Not called after `close()`. */
  onClose?: (info: { code: number; reason: string; wasOpen: boolean }) => void;
  /** A frame that is not a well-formed message of a known type (logged, otherwise ignored). */
  onMalformed?: (text: string) => void;
  /** Any frame arrived (the connection is alive). */
  onFrame?: () => void;
}

export class SignalingClient {
  private socket: SocketLike;
  private handlers: HandlerMap = {};
  private pending: string[] = [];
  private opened = false;
  private closedByUs = false;

  constructor(url: string, factory: SocketFactory = browserSocketFactory, private events: SignalingEvents = {}) {
    this.socket = factory(url);
    this.socket.onopen = () => {
      this.opened = true;
      for (const frame of this.pending) this.socket.send(frame);
      this.pending = [];
    };
    this.socket.onmessage = (ev) => this.dispatch(ev.data);
    this.socket.onclose = (ev) => {
      if (this.closedByUs) return;
      this.closedByUs = true;
      this.events.onClose?.({ code: ev.code, reason: ev.reason, wasOpen: this.opened });
    };
    this.socket.onerror = () => {
      // A close event always follows; it carries the information.
    };
  }

  /** Register the handler for one message type (one per type; a later call replaces it). */
  on<K extends ServerMessageType>(type: K, handler: (msg: Extract<ServerMessage, { type: K }>) => void): this {
    (this.handlers as Record<string, unknown>)[type] = handler;
    return this;
  }

  /** Send a message; frames sent before the socket opens are queued and flushed in order. */
  send(msg: ClientMessage): void {
    if (this.closedByUs) return;
    const frame = JSON.stringify(msg);
    if (this.socket.readyState === OPEN) this.socket.send(frame);
    else this.pending.push(frame);
  }

  get isOpen(): boolean {
    return !this.closedByUs && this.socket.readyState === OPEN;
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.pending = [];
    try {
      this.socket.close(1000, 'bye');
    } catch {
      // already closing
    }
  }

  private dispatch(data: unknown): void {
    if (this.closedByUs) return;
    this.events.onFrame?.();
    if (typeof data !== 'string') return;
    const msg = parseServerMessage(data);
    if (!msg) {
      this.events.onMalformed?.(data);
      return;
    }
    const handler = (this.handlers as Record<string, ((m: ServerMessage) => void) | undefined>)[msg.type];
    handler?.(msg);
  }
}
