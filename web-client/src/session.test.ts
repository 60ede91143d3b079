import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeetingSession, type LocalMediaSource } from './session';
import { FakePc, FakeSocket, FakeStream, FakeTrack, flush, installFakeMediaStream } from './testing/fakes';
import type { Participant } from './protocol';

installFakeMediaStream();

const part = (sid: string, identity: string, extra: Partial<Participant> = {}): Participant => ({
  sid,
  identity,
  name: identity,
  moderator: false,
  muted: false,
  camera_off: false,
  ...extra,
});

const joined = (others: Participant[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'joined',
  protocol: 1,
  room: 'e2e',
  you: part('p1', 'alice'),
  participants: others,
  tracks: [],
  ice_servers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
  resume_token: 'resume-me',
  chat: [],
  hands: [],
  ...extra,
});

/** The own devices, as LocalMediaController would report them. */
class FakeLocal implements LocalMediaSource {
  onTrack: LocalMediaSource['onTrack'] = null;
  mic: FakeTrack | null = new FakeTrack('audio', 'mic');
  camera: FakeTrack | null = new FakeTrack('video', 'cam');
  muted = false;
  cameraOff = false;
  getSnapshot() {
    const tracks = [this.camera, this.mic].filter((t): t is FakeTrack => !!t);
    return {
      mic: this.mic as unknown as MediaStreamTrack,
      camera: this.camera as unknown as MediaStreamTrack,
      preview: new FakeStream('local', tracks) as unknown as MediaStream,
      muted: this.muted,
      cameraOff: this.cameraOff,
    };
  }
  setMuted(m: boolean) {
    this.muted = m;
    if (this.mic) this.mic.enabled = !m;
  }
  async setCameraOff(off: boolean) {
    this.cameraOff = off;
    if (off) {
      this.camera?.stop();
      this.camera = null;
    } else {
      this.camera = new FakeTrack('video', 'cam2');
    }
    this.onTrack?.('camera', this.camera as unknown as MediaStreamTrack);
  }
}

let sockets: FakeSocket[];
let sock: FakeSocket;
let local: FakeLocal;
let session: MeetingSession | null;

function makeSession(withMedia = true, display?: () => Promise<MediaStream>) {
  local = new FakeLocal();
  const s = new MeetingSession(
    { wsUrl: 'ws://127.0.0.1/ws', room: 'e2e', token: 'a.b.c', name: 'Alice', local: withMedia ? local : null },
    {
      socketFactory: (url) => {
        sock = new FakeSocket(url);
        sockets.push(sock);
        return sock;
      },
      pcFactory: (cfg) => new FakePc(cfg) as unknown as RTCPeerConnection,
      getDisplayMedia: display,
      log: () => undefined,
    },
  );
  session = s;
  s.start();
  sock.open();
  return s;
}

const [subPc, pubPc] = [() => FakePc.created[0]!, () => FakePc.created[1]!];

describe('meeting session', () => {
  beforeEach(() => {
    FakePc.created = [];
    sockets = [];
  });
  afterEach(() => {
    session?.dispose();
    session = null;
    vi.useRealTimers();
  });

  it('joins, then publishes microphone and camera in one offer that names their sources', async () => {
    const s = makeSession();
    expect(sock.messages()[0]).toEqual({ type: 'join', protocol: 1, room: 'e2e', token: 'a.b.c', name: 'Alice' });
    expect(s.getSnapshot().phase).toBe('connecting');

    sock.receive(joined());
    await flush();
    expect(s.getSnapshot().phase).toBe('joined');
    expect(FakePc.created).toHaveLength(2);
    expect(pubPc().config.iceServers).toEqual([{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }]);
    expect(pubPc().transceivers.map((t) => [t.track?.kind, t.direction])).toEqual([
      ['audio', 'sendonly'],
      ['video', 'sendonly'],
    ]);
    expect(sock.ofType('publish_offer')).toEqual([
      { type: 'publish_offer', sdp: 'offer-with-2-tracks', sources: { '0': 'microphone', '1': 'camera' } },
    ]);

    sock.receive({ type: 'publish_answer', sdp: 'the-answer' });
    await flush();
    expect(pubPc().remoteDescription).toEqual({ type: 'answer', sdp: 'the-answer' });
    sock.receive({ type: 'publish_answer', sdp: 'a-late-duplicate' });
    await flush();
    expect(pubPc().remoteDescription?.sdp).toBe('the-answer');
  });

  it('answers subscribe offers one at a time, in order', async () => {
    makeSession();
    sock.receive(joined());
    await flush();
    sock.receive({ type: 'subscribe_offer', sdp: 'hold-1' });
    sock.receive({ type: 'subscribe_offer', sdp: 'second' });
    await flush();
    expect(subPc().log).toEqual(['setRemote:offer:hold-1:start']);
    expect(sock.ofType('subscribe_answer')).toEqual([]);
    subPc().holdRemote!();
    await flush();
    await flush();
    expect(sock.ofType('subscribe_answer')).toEqual([
      { type: 'subscribe_answer', sdp: 'answer-1-to-hold-1' },
      { type: 'subscribe_answer', sdp: 'answer-2-to-second' },
    ]);
  });

  it('trickles candidates after the description they belong to', async () => {
    makeSession();
    sock.receive(joined());
    await flush();
    pubPc().onicecandidate?.({ candidate: { candidate: 'candidate:late' } });
    pubPc().onicecandidate?.({ candidate: null });
    const sent = sock.messages().map((m) => m.type);
    expect(sent.indexOf('publish_offer')).toBeLessThan(sent.indexOf('ice_candidate'));
    expect(sock.ofType('ice_candidate')).toEqual([
      { type: 'ice_candidate', target: 'publisher', candidate: 'candidate:late' },
      { type: 'ice_candidate', target: 'publisher', candidate: null },
    ]);
  });

  it('groups received tracks per participant: camera+microphone for the tile, the screen apart', async () => {
    const s = makeSession();
    sock.receive(
      joined([part('p2', 'bob')], {
        tracks: [
          { sid: 'p2', track_id: '0', kind: 'audio', source: 'microphone' },
          { sid: 'p2', track_id: '1', kind: 'video', source: 'camera' },
          { sid: 'p2', track_id: '2', kind: 'video', source: 'screen' },
        ],
      }),
    );
    await flush();
    const offer = ['m=audio 9\r\na=mid:a\r\na=msid:p2 p2-0', 'm=video 9\r\na=mid:b\r\na=msid:p2 p2-1', 'm=video 9\r\na=mid:c\r\na=msid:p2 p2-2'].join('\r\n');
    sock.receive({ type: 'subscribe_offer', sdp: `v=0\r\n${offer}\r\n` });
    await flush();
    const stream = new FakeStream('p2');
    const [mic, cam, screen] = [new FakeTrack('audio', 'p2-0'), new FakeTrack('video', 'p2-1'), new FakeTrack('video', 'p2-2')];
    subPc().ontrack?.({ track: mic, streams: [stream], transceiver: { mid: 'a' } });
    subPc().ontrack?.({ track: cam, streams: [stream], transceiver: { mid: 'b' } });
    subPc().ontrack?.({ track: screen, streams: [stream], transceiver: { mid: 'c' } });
    const media = s.getSnapshot().media.get('p2')!;
    expect(media.main!.getTracks()).toEqual([mic, cam]);
    expect(media.screen!.getTracks()).toEqual([screen]);

    sock.receive({ type: 'track_unpublished', sid: 'p2', track_id: '2' });
    expect(s.getSnapshot().media.get('p2')!.screen).toBeNull();
    expect(s.getSnapshot().media.get('p2')!.main).toBe(media.main);
    sock.receive({ type: 'participant_left', sid: 'p2', reason: 'left' });
    expect(s.getSnapshot().media.has('p2')).toBe(false);
    expect(s.getSnapshot().room.roster.order).toEqual([]);
  });

  it('mutes (track.enabled, the sender stops) and switches the camera off and on by replacing the track, without renegotiation', async () => {
    const s = makeSession();
    sock.receive(joined());
    await flush();
    sock.receive({ type: 'publish_answer', sdp: 'a' });
    await flush();
    s.setMuted(true);
    expect(local.mic!.enabled).toBe(false);
    await flush();
    // Muted sends nothing at all (no silence packets).
    const micSender = pubPc().transceivers[0]!.sender;
    expect(micSender.encodings.map((e) => e.active)).toEqual([false]);
    s.setMuted(false);
    await flush();
    expect(micSender.encodings.map((e) => e.active)).toEqual([true]);
    s.setMuted(true);
    await s.setCameraOff(true);
    await flush();
    const camSender = pubPc().transceivers[1]!.sender;
    expect(camSender.track).toBeNull();
    await s.setCameraOff(false);
    await flush();
    expect(camSender.track?.id).toBe('cam2');
    expect(sock.ofType('update')).toEqual([
      { type: 'update', muted: true },
      { type: 'update', muted: false },
      { type: 'update', muted: true },
      { type: 'update', camera_off: true },
      { type: 'update', camera_off: false },
    ]);
    expect(sock.ofType('publish_offer')).toHaveLength(1);
    expect(s.getSnapshot()).toMatchObject({ muted: true, cameraOff: false });
  });

  it('shares the screen as another track (renegotiated, labelled screen) and stops it', async () => {
    const screenTrack = new FakeTrack('video', 'screen');
    const s = makeSession(true, async () => new FakeStream('display', [screenTrack]) as unknown as MediaStream);
    sock.receive(joined());
    await flush();
    sock.receive({ type: 'publish_answer', sdp: 'a1' });
    await flush();
    expect(await s.startScreenShare()).toBe(true);
    await flush();
    expect(sock.ofType('publish_offer').at(-1)).toEqual({
      type: 'publish_offer',
      sdp: 'offer-with-3-tracks',
      sources: { '0': 'microphone', '1': 'camera', '2': 'screen' },
    });
    expect(s.getSnapshot().screen).not.toBeNull();
    sock.receive({ type: 'publish_answer', sdp: 'a2' });
    await flush();
    s.stopScreenShare();
    await flush();
    expect(screenTrack.stopped).toBe(true);
    expect(pubPc().transceivers[2]!.direction).toBe('inactive');
    expect(sock.ofType('publish_offer').at(-1)!.sdp).toBe('offer-with-2-tracks');
  });

  it('joins without media as a receiver only, telling the others it is muted with the camera off', async () => {
    makeSession(false);
    sock.receive(joined());
    await flush();
    expect(FakePc.created).toHaveLength(1);
    expect(sock.ofType('publish_offer')).toEqual([]);
    expect(sock.ofType('update')).toEqual([{ type: 'update', muted: true, camera_off: true }]);
  });

  it('keeps chat, hands and join/leave events for the UI', async () => {
    const s = makeSession();
    sock.receive(joined([part('p2', 'bob')], { chat: [{ id: 1, sid: 'p2', identity: 'bob', name: 'bob', text: 'früher', at: 1 }] }));
    sock.receive({ type: 'chat', message: { id: 2, sid: 'p2', identity: 'bob', name: 'bob', text: 'hallo', at: 2 } });
    sock.receive({ type: 'hand_changed', sid: 'p2', raised: true, by: 'p2', queue: ['p2'] });
    sock.receive({ type: 'participant_joined', participant: part('p3', 'carol') });
    const room = s.getSnapshot().room;
    expect(room.chat.map((c) => c.text)).toEqual(['früher', 'hallo']);
    expect(room.hands).toEqual(['p2']);
    expect(room.events.map((e) => e.kind)).toEqual(['chat', 'hand_raised', 'joined']);
    expect(s.sendChat('   ')).toBe(false);
    expect(s.sendChat('x'.repeat(1001))).toBe(false);
    expect(s.sendChat(' Moin ')).toBe(true);
    s.setHand(true);
    s.lowerHandOf('p2');
    expect(sock.ofType('chat')).toEqual([{ type: 'chat', text: 'Moin' }]);
    expect(sock.ofType('hand')).toEqual([
      { type: 'hand', raised: true },
      { type: 'hand', raised: false, sid: 'p2' },
    ]);
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

  it('fails with the server code on a fatal error, shows non-fatal ones as notices', () => {
    const s = makeSession();
    sock.receive({ type: 'error', code: 'bad_candidate', message: 'x', fatal: false });
    expect(s.getSnapshot().notice).toBeNull();
    sock.receive({ type: 'error', code: 'internal', message: 'oops', fatal: false });
    expect(s.getSnapshot().notice).toEqual({ code: 'internal', message: 'oops' });
    sock.receive({ type: 'error', code: 'token_expired', message: 'expired', fatal: true });
    sock.serverClose(1008, '');
    expect(s.getSnapshot()).toMatchObject({ phase: 'failed', fatal: { code: 'token_expired' } });
  });

  it('fails with connection_failed when the server never answers the first join', () => {
    const s = new MeetingSession(
      { wsUrl: 'ws://x/ws', room: 'e2e', token: 't', name: 'n', local: null },
      { socketFactory: (url) => (sock = new FakeSocket(url)), pcFactory: (c) => new FakePc(c) as unknown as RTCPeerConnection },
    );
    s.start();
    sock.serverClose(1006, '');
    expect(s.getSnapshot().fatal?.code).toBe('connection_failed');
  });
});

describe('reconnecting', () => {
  beforeEach(() => {
    FakePc.created = [];
    sockets = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    session?.dispose();
    session = null;
    vi.useRealTimers();
  });

  async function joinedSession() {
    const s = makeSession();
    sock.receive(joined([part('p2', 'bob')]));
    await flush();
    sock.receive({ type: 'publish_answer', sdp: 'v=0\r\na=ice-ufrag:old\r\n' });
    sock.receive({ type: 'subscribe_offer', sdp: 'v=0\r\na=ice-ufrag:sub\r\n' });
    await flush();
    return s;
  }

  it('resumes on a new socket after a drop, restarts ICE where the media did not come back, sends what was queued', async () => {
    const s = await joinedSession();
    const first = sock;
    pubPc().setState('disconnected');
    subPc().setState('disconnected');
    expect(s.getSnapshot().mediaTrouble).toBe(true);
    first.serverClose(1006, '');
    expect(s.getSnapshot().phase).toBe('reconnecting');
    expect(s.sendChat('während der Pause')).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    expect(sockets).toHaveLength(2);
    sock.open();
    expect(sock.messages()[0]).toEqual({ type: 'resume', protocol: 1, room: 'e2e', resume_token: 'resume-me' });

    const fresh = [{ urls: 'turn:127.0.0.1:3478', username: 'u2', credential: 'c2' }];
    sock.receive({ ...joined([part('p2', 'bob')], { ice_servers: fresh }), type: 'resumed' });
    await flush();
    expect(s.getSnapshot().phase).toBe('joined');
    expect(FakePc.created).toHaveLength(2); // the same connections
    // Fresh TURN credentials for the ICE restarts to come.
    expect(pubPc().config.iceServers).toEqual(fresh);
    expect(subPc().config.iceServers).toEqual(fresh);
    expect(sock.ofType('chat')).toEqual([{ type: 'chat', text: 'während der Pause' }]);
    // The media gets two seconds to come back by itself; then ICE restarts.
    expect(sock.ofType('restart_ice')).toEqual([]);
    await vi.advanceTimersByTimeAsync(2100);
    expect(sock.ofType('restart_ice')).toEqual([{ type: 'restart_ice' }]);
    expect(sock.ofType('publish_offer')).toEqual([expect.objectContaining({ sdp: 'offer-with-2-tracks-restart' })]);
    // An answer that still carries the old ICE credentials belongs to an older offer: ignored.
    sock.receive({ type: 'publish_answer', sdp: 'v=0\r\na=ice-ufrag:old\r\n' });
    await flush();
    expect(pubPc().signalingState).toBe('have-local-offer');
    sock.receive({ type: 'publish_answer', sdp: 'v=0\r\na=ice-ufrag:new\r\n' });
    await flush();
    expect(pubPc().signalingState).toBe('stable');
    expect(s.getSnapshot().room.events.filter((e) => e.kind === 'left' || e.kind === 'joined')).toEqual([]);
  });

  it('needs no ICE restart when the media came back by itself', async () => {
    await joinedSession();
    sock.serverClose(1006, '');
    await vi.advanceTimersByTimeAsync(300);
    sock.open();
    sock.receive({ ...joined([part('p2', 'bob')]), type: 'resumed' });
    await flush();
    await vi.advanceTimersByTimeAsync(2100);
    expect(sock.ofType('restart_ice')).toEqual([]);
    expect(sock.ofType('publish_offer')).toEqual([]);
  });

  it('offers again (with an ICE restart) when the answer to a publish offer was lost with the socket', async () => {
    makeSession();
    sock.receive(joined());
    await flush();
    expect(pubPc().signalingState).toBe('have-local-offer');
    sock.serverClose(1006, '');
    await vi.advanceTimersByTimeAsync(300);
    sock.open();
    sock.receive({ ...joined(), type: 'resumed' });
    await flush();
    expect(sock.ofType('publish_offer')).toEqual([expect.objectContaining({ sdp: 'offer-with-2-tracks-restart' })]);
    expect(pubPc().log).toContain('setLocal:rollback');
  });

  it('notices a silent connection by its heartbeat', async () => {
    const s = await joinedSession();
    await vi.advanceTimersByTimeAsync(5000);
    expect(sock.ofType('ping').length).toBeGreaterThanOrEqual(1);
    expect(s.getSnapshot().phase).toBe('joined');
    await vi.advanceTimersByTimeAsync(6000);
    expect(s.getSnapshot().phase).toBe('reconnecting');
  });

  it('keeps trying while the server is unreachable, then joins afresh when nothing can be resumed', async () => {
    const s = await joinedSession();
    sock.serverClose(1006, '');
    await vi.advanceTimersByTimeAsync(300);
    sock.serverClose(1006, ''); // refused
    await vi.advanceTimersByTimeAsync(1100);
    expect(sockets).toHaveLength(3);
    sock.serverClose(1006, ''); // refused again
    await vi.advanceTimersByTimeAsync(2100);
    expect(sockets).toHaveLength(4);
    expect(s.getSnapshot().phase).toBe('reconnecting');
    sock.open();
    sock.receive({ type: 'error', code: 'resume_failed', message: 'gone', fatal: false });
    expect(sock.messages().map((m) => m.type)).toEqual(['resume', 'join']);
    expect(FakePc.created.slice(0, 2).every((pc) => pc.closed)).toBe(true);
    sock.receive(joined([part('p2', 'bob')], { you: part('p9', 'alice') }));
    await flush();
    expect(s.getSnapshot().phase).toBe('joined');
    expect(FakePc.created).toHaveLength(4);
    expect(s.getSnapshot().room.self?.sid).toBe('p9');
    expect(s.getSnapshot().notice).toBeNull();
  });

  it('gives a stalled connection attempt up and tries the next', async () => {
    await joinedSession();
    sock.serverClose(1006, '');
    await vi.advanceTimersByTimeAsync(300);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5000); // never opens
    expect(sockets[1]!.closed).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1100);
    expect(sockets).toHaveLength(3);
  });
});

describe('media hints from the SFU', () => {
  beforeEach(() => {
    FakePc.created = [];
    sockets = [];
    vi.useFakeTimers();
  });
  afterEach(() => {
    session?.dispose();
    session = null;
    vi.useRealTimers();
  });

  it('sends the sizes of shown videos, marks paused ones, and applies publisher layers', async () => {
    const s = makeSession();
    sock.receive(joined([part('p2', 'bob'), part('p3', 'carol')], {
      tracks: [
        { sid: 'p2', track_id: '1', kind: 'video', source: 'camera' },
        { sid: 'p3', track_id: '1', kind: 'video', source: 'camera' },
      ],
    }));
    await flush();
    s.setView({ tiles: { p2: { width: 480, height: 270 } }, share: null });
    await vi.advanceTimersByTimeAsync(300);
    expect(sock.ofType('video_sizes')).toEqual([
      {
        type: 'video_sizes',
        sizes: [
          { sid: 'p2', track_id: '1', width: 480, height: 270 },
          { sid: 'p3', track_id: '1', width: 0, height: 0 },
        ],
      },
    ]);
    expect(s.visible).toEqual(['p2']);
    sock.receive({ type: 'video_paused', sid: 'p2', track_id: '1', paused: true });
    expect(s.getSnapshot().pausedVideo.has('p2/1')).toBe(true);
    sock.receive({ type: 'video_paused', sid: 'p2', track_id: '1', paused: false });
    expect(s.getSnapshot().pausedVideo.size).toBe(0);
    sock.receive({ type: 'error', code: 'unknown_track', message: 'x', fatal: false });
    expect(s.getSnapshot().notice).toBeNull();
    sock.receive({ type: 'publisher_layers', track_id: '1', active: [{ rid: 'f', active: false }] });
    await flush();
  });

  it('shows until when a draining server keeps the meeting', async () => {
    const s = makeSession();
    sock.receive(joined([]));
    await flush();
    expect(s.getSnapshot().drainingUntil).toBeNull();
    const before = Date.now();
    sock.receive({ type: 'draining', seconds: 600 });
    const until = s.getSnapshot().drainingUntil;
    expect(until).not.toBeNull();
    expect(until! - before).toBeGreaterThanOrEqual(600_000);
    expect(until! - Date.now()).toBeLessThanOrEqual(600_000);
    expect(s.getSnapshot().phase).toBe('joined');
  });
});
