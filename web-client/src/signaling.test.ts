import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalingClient, signalingUrl } from './signaling';
import { FakeSocket } from './testing/fakes';

let sock: FakeSocket;
const factory = (url: string) => (sock = new FakeSocket(url));

describe('signaling client', () => {
  beforeEach(() => {
    FakeSocket.last = null;
  });

  it('builds ws:// or wss:// URLs for the page host', () => {
    expect(signalingUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
    expect(signalingUrl({ protocol: 'https:', host: 'plenum.example' })).toBe('wss://plenum.example/ws');
  });

  it('queues frames until the socket opens, then sends them in order', () => {
    const c = new SignalingClient('ws://h/ws', factory);
    expect(sock.url).toBe('ws://h/ws');
    c.send({ type: 'join', protocol: 1, room: 'r', token: 't', name: 'N' });
    c.send({ type: 'ping', id: 1 });
    expect(sock.sent).toEqual([]);
    sock.open();
    c.send({ type: 'leave' });
    expect(sock.messages()).toEqual([
      { type: 'join', protocol: 1, room: 'r', token: 't', name: 'N' },
      { type: 'ping', id: 1 },
      { type: 'leave' },
    ]);
  });

  it('dispatches each message type to its handler', () => {
    const c = new SignalingClient('ws://h/ws', factory);
    const pongs: number[] = [];
    const offers: string[] = [];
    c.on('pong', (m) => pongs.push(m.id)).on('subscribe_offer', (m) => offers.push(m.sdp));
    sock.open();
    sock.receive({ type: 'pong', id: 7 });
    sock.receive({ type: 'subscribe_offer', sdp: 'v=0' });
    sock.receive({ type: 'participant_left', sid: 'p1', reason: 'left' }); // no handler: ignored
    expect(pongs).toEqual([7]);
    expect(offers).toEqual(['v=0']);
  });

  it('reports malformed frames without dispatching them', () => {
    const onMalformed = vi.fn();
    const c = new SignalingClient('ws://h/ws', factory, { onMalformed });
    const onError = vi.fn();
    c.on('error', onError);
    sock.open();
    sock.receive('not json');
    sock.receive({ type: 'error' }); // missing code
    expect(onMalformed).toHaveBeenCalledTimes(2);
    expect(onError).not.toHaveBeenCalled();
  });

  it('reports a close by the server once, and none after close()', () => {
    const onClose = vi.fn();
    new SignalingClient('ws://h/ws', factory, { onClose });
    sock.open();
    sock.serverClose(1008, 'policy');
    sock.serverClose(1008, 'policy');
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledWith({ code: 1008, reason: 'policy', wasOpen: true });

    const onClose2 = vi.fn();
    const c2 = new SignalingClient('ws://h/ws', factory, { onClose: onClose2 });
    sock.open();
    c2.close();
    expect(sock.closed).toEqual({ code: 1000, reason: 'bye' });
    sock.serverClose(1000, '');
    expect(onClose2).not.toHaveBeenCalled();
    c2.send({ type: 'leave' });
    expect(sock.sent).toEqual([]);
  });

  it('tells a refused connection from a lost one', () => {
    const onClose = vi.fn();
    new SignalingClient('ws://h/ws', factory, { onClose });
    sock.serverClose(1006, '');
    expect(onClose).toHaveBeenCalledWith({ code: 1006, reason: '', wasOpen: false });
  });
});
