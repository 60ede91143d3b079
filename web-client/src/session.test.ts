import { beforeEach, describe, expect, it } from 'vitest';
import { MeetingSession } from './session';
import { FakePc, FakeSocket, FakeStream, FakeTrack, flush } from './testing/fakes';
import type { Participant } from './protocol';

const part = (sid: string, identity: string, extra: Partial<Participant> = {}): Participant => ({
  sid,
  identity,
  name: identity,
  moderator: false,
  muted: false,
  camera_off: false,
  ...extra,
});

const joined = (others: Participant[] = []) => ({
  type: 'joined',
  protocol: 1,
  room: 'e2e',
  you: part('p1', 'alice'),
  participants: others,
  tracks: [],
  ice_servers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
});

let sock: FakeSocket;
let audio: FakeTrack;
let video: FakeTrack;

function makeSession(withMedia = true) {
  audio = new FakeTrack('audio', 'mic');
  video = new FakeTrack('video', 'cam');
  const stream = withMedia ? (new FakeStream('local', [audio, video]) as unknown as MediaStream) : null;
  const s = new MeetingSession(
    { wsUrl: 'ws://127.0.0.1/ws', room: 'e2e', token: 'a.b.c', name: 'Alice', localStream: stream },
    {
      socketFactory: (url) => (sock = new FakeSocket(url)),
      pcFactory: (cfg) => new FakePc(cfg) as unknown as RTCPeerConnection,
      log: () => undefined,
    },
  );
  s.start();
  sock.open();
  return s;
}

const [subPc, pubPc] = [() => FakePc.created[0]!, () => FakePc.created[1]!];

describe('meeting session', () => {
  beforeEach(() => {
    FakePc.created = [];
  });

  it('joins, then publishes its tracks sendonly and applies the answer', async () => {
    const s = makeSession();
    expect(sock.messages()[0]).toEqual({ type: 'join', protocol: 1, room: 'e2e', token: 'a.b.c', name: 'Alice' });
    expect(s.getSnapshot().phase).toBe('connecting');

    sock.receive(joined());
    await flush();
    expect(s.getSnapshot().phase).toBe('joined');
    expect(FakePc.created).toHaveLength(2);
    expect(pubPc().config.iceServers).toEqual([{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }]);
    expect(pubPc().transceivers.map((t) => [t.track.kind, t.init.direction])).toEqual([
      ['audio', 'sendonly'],
      ['video', 'sendonly'],
    ]);
    expect(sock.ofType('publish_offer')).toEqual([{ type: 'publish_offer', sdp: 'offer-with-2-tracks' }]);

    sock.receive({ type: 'publish_answer', sdp: 'the-answer' });
    await flush();
    expect(pubPc().remoteDescription).toEqual({ type: 'answer', sdp: 'the-answer' });
  });

  it('answers subscribe offers one at a time, in order', async () => {
    makeSession();
    sock.receive(joined());
    await flush();
    sock.receive({ type: 'subscribe_offer', sdp: 'hold-1' });
    sock.receive({ type: 'subscribe_offer', sdp: 'second' });
    await flush();
    // The second offer must wait until the first is fully answered.
    expect(subPc().log).toEqual(['setRemote:offer:hold-1:start']);
    expect(sock.ofType('subscribe_answer')).toEqual([]);
    subPc().holdRemote!();
    await flush();
    await flush();
    expect(sock.ofType('subscribe_answer')).toEqual([
      { type: 'subscribe_answer', sdp: 'answer-1-to-hold-1' },
      { type: 'subscribe_answer', sdp: 'answer-2-to-second' },
    ]);
    expect(subPc().log.indexOf('setRemote:offer:second:start')).toBeGreaterThan(subPc().log.indexOf('setLocal:answer'));
  });

  it('trickles candidates after the description they belong to', async () => {
    makeSession();
    sock.receive(joined());
    pubPc().onicecandidate?.({ candidate: { candidate: 'candidate:early' } });
    await flush();
    pubPc().onicecandidate?.({ candidate: null });
    const sent = sock.messages().map((m) => m.type);
    expect(sent.indexOf('publish_offer')).toBeLessThan(sent.indexOf('ice_candidate'));
    expect(sock.ofType('ice_candidate')).toEqual([
      { type: 'ice_candidate', target: 'publisher', candidate: 'candidate:early' },
      { type: 'ice_candidate', target: 'publisher', candidate: null },
    ]);
  });

  it('puts remote tracks on the tile of the sid named by the stream, and drops them when the participant leaves', async () => {
    const s = makeSession();
    sock.receive(joined([part('p2', 'bob')]));
    sock.receive({ type: 'participant_joined', participant: part('p3', 'carol') });
    const bobStream = new FakeStream('p2');
    subPc().ontrack?.({ track: new FakeTrack('video', 'bob-v'), streams: [bobStream] });
    subPc().ontrack?.({ track: new FakeTrack('audio', 'bob-a'), streams: [bobStream] });
    subPc().ontrack?.({ track: new FakeTrack('video', 'carol-v'), streams: [new FakeStream('p3')] });
    const snap = s.getSnapshot();
    expect(snap.roster.order).toEqual(['p2', 'p3']);
    expect(snap.streams.get('p2')).toBe(bobStream);
    expect(snap.streams.get('p3')).toBeDefined();

    sock.receive({ type: 'participant_left', sid: 'p3', reason: 'left' });
    expect(s.getSnapshot().roster.order).toEqual(['p2']);
    expect(s.getSnapshot().streams.has('p3')).toBe(false);
  });

  it('mutes and turns the camera off: track.enabled and update messages', async () => {
    const s = makeSession();
    sock.receive(joined());
    s.setMuted(true);
    expect(audio.enabled).toBe(false);
    s.setCameraOff(true);
    expect(video.enabled).toBe(false);
    s.setMuted(false);
    expect(audio.enabled).toBe(true);
    expect(sock.ofType('update')).toEqual([
      { type: 'update', muted: true },
      { type: 'update', camera_off: true },
      { type: 'update', muted: false },
    ]);
    expect(s.getSnapshot()).toMatchObject({ muted: false, cameraOff: true });
  });

  it('joins without media as a receiver only, telling the others it is muted with the camera off', async () => {
    makeSession(false);
    sock.receive(joined());
    await flush();
    expect(FakePc.created).toHaveLength(1);
    expect(sock.ofType('publish_offer')).toEqual([]);
    expect(sock.ofType('update')).toEqual([{ type: 'update', muted: true, camera_off: true }]);
  });

  it('leaves: sends leave, closes both connections and the socket', async () => {
    const s = makeSession();
    sock.receive(joined());
    await flush();
    s.leave();
    expect(sock.messages().at(-1)).toEqual({ type: 'leave' });
    expect(FakePc.created.every((pc) => pc.closed)).toBe(true);
    expect(sock.closed).not.toBeNull();
    expect(s.getSnapshot().phase).toBe('left');
  });

  it('fails with the server code on a fatal error, shows non-fatal ones as notices', async () => {
    const s = makeSession();
    sock.receive({ type: 'error', code: 'bad_candidate', message: 'x', fatal: false });
    expect(s.getSnapshot().notice).toBeNull();
    sock.receive({ type: 'error', code: 'internal', message: 'oops', fatal: false });
    expect(s.getSnapshot().notice).toEqual({ code: 'internal', message: 'oops' });
    sock.receive({ type: 'error', code: 'token_expired', message: 'expired', fatal: true });
    sock.serverClose(1008, '');
    expect(s.getSnapshot()).toMatchObject({ phase: 'failed', fatal: { code: 'token_expired' } });
  });

  it('fails with connection_lost when the socket drops, connection_failed when it never opened', () => {
    const s = makeSession();
    sock.receive(joined());
    sock.serverClose(1006, '');
    expect(s.getSnapshot().fatal?.code).toBe('connection_lost');

    const s2 = new MeetingSession(
      { wsUrl: 'ws://x/ws', room: 'e2e', token: 't', name: 'n', localStream: null },
      { socketFactory: (url) => (sock = new FakeSocket(url)), pcFactory: (c) => new FakePc(c) as unknown as RTCPeerConnection },
    );
    s2.start();
    sock.serverClose(1006, '');
    expect(s2.getSnapshot().fatal?.code).toBe('connection_failed');
  });
});
