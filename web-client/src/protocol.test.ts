import { describe, expect, it } from 'vitest';
import { parseServerMessage } from './protocolParse';

// Examples copied from docs/protocol.md.
const examples = {
  joined:
    '{"type": "joined", "protocol": 1, "room": "team-weekly", "you": {"sid": "p12", "identity": "erika", "name": "Erika Mustermann", "moderator": false, "muted": false, "camera_off": false}, "participants": [{"sid": "p9", "identity": "max", "name": "Max", "moderator": true, "muted": true, "camera_off": false}], "tracks": [{"sid": "p9", "track_id": "0", "kind": "audio", "source": "microphone"}], "ice_servers": [{"urls": ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp", "turns:turn.example.org:443?transport=tcp"], "username": "1763928000:p12", "credential": "0Bq2b//aUwWeX9yvEG2OZzK87Zs="}], "ice_transport_policy": "all", "resume_token": "3f9a0c5e1b7d4e2f8a6c0b1d2e3f4a5b", "chat": [{"id": 1, "sid": "p9", "identity": "max", "name": "Max", "text": "Hallo zusammen", "at": 1763884700000}], "hands": ["p9"]}',
  resumed:
    '{"type": "resumed", "protocol": 1, "room": "team-weekly", "you": {"sid": "p12", "identity": "erika", "name": "Erika Mustermann", "moderator": false, "muted": true, "camera_off": false}, "participants": [], "tracks": [], "ice_servers": [], "ice_transport_policy": "all", "chat": [], "hands": []}',
  chat: '{"type": "chat", "message": {"id": 8, "sid": "p13", "identity": "max", "name": "Max", "text": "Moin!", "at": 1763884805000}}',
  hand_changed: '{"type": "hand_changed", "sid": "p13", "raised": false, "by": "p9", "queue": ["p14"]}',
  speakers: '{"type": "speakers", "dominant": "p13", "speaking": ["p13", "p9"]}',
  screen: '{"type": "track_published", "sid": "p13", "track_id": "2", "kind": "video", "source": "screen"}',
  participant_joined:
    '{"type": "participant_joined", "participant": {"sid": "p13", "identity": "max", "name": "Max", "moderator": false, "muted": false, "camera_off": false}}',
  participant_left: '{"type": "participant_left", "sid": "p13", "reason": "left"}',
  track_published: '{"type": "track_published", "sid": "p13", "track_id": "1", "kind": "video", "source": "camera"}',
  track_unpublished: '{"type": "track_unpublished", "sid": "p13", "track_id": "1"}',
  pong: '{"type": "pong", "id": 7}',
  error:
    '{"type": "error", "code": "token_expired", "message": "the join token expired at 2026-11-23T08:00:00Z", "fatal": true}',
};

describe('parseServerMessage', () => {
  it('parses the documented joined message', () => {
    expect(parseServerMessage(examples.joined)).toEqual({
      type: 'joined',
      protocol: 1,
      room: 'team-weekly',
      you: { sid: 'p12', identity: 'erika', name: 'Erika Mustermann', moderator: false, muted: false, camera_off: false },
      participants: [{ sid: 'p9', identity: 'max', name: 'Max', moderator: true, muted: true, camera_off: false }],
      tracks: [{ sid: 'p9', track_id: '0', kind: 'audio', source: 'microphone' }],
      ice_servers: [
        {
          urls: ['turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org:3478?transport=tcp', 'turns:turn.example.org:443?transport=tcp'],
          username: '1763928000:p12',
          credential: '0Bq2b//aUwWeX9yvEG2OZzK87Zs=',
        },
      ],
      ice_transport_policy: 'all',
      resume_token: '3f9a0c5e1b7d4e2f8a6c0b1d2e3f4a5b',
      chat: [{ id: 1, sid: 'p9', identity: 'max', name: 'Max', text: 'Hallo zusammen', at: 1763884700000 }],
      hands: ['p9'],
    });
  });

  it('parses the meeting messages: resumed, chat, hand_changed, speakers, screen tracks', () => {
    expect(parseServerMessage(examples.resumed)).toMatchObject({ type: 'resumed', you: { sid: 'p12', muted: true }, chat: [], hands: [] });
    expect(parseServerMessage(examples.chat)).toEqual({
      type: 'chat',
      message: { id: 8, sid: 'p13', identity: 'max', name: 'Max', text: 'Moin!', at: 1763884805000 },
    });
    expect(parseServerMessage(examples.hand_changed)).toEqual({ type: 'hand_changed', sid: 'p13', raised: false, by: 'p9', queue: ['p14'] });
    expect(parseServerMessage(examples.speakers)).toEqual({ type: 'speakers', dominant: 'p13', speaking: ['p13', 'p9'] });
    expect(parseServerMessage(examples.screen)).toMatchObject({ type: 'track_published', source: 'screen' });
    expect(parseServerMessage('{"type": "video_paused", "sid": "p13", "track_id": "1", "paused": true}')).toEqual({
      type: 'video_paused',
      sid: 'p13',
      track_id: '1',
      paused: true,
    });
    expect(
      parseServerMessage('{"type": "publisher_layers", "track_id": "1", "active": [{"rid": "q", "active": true}, {"rid": "f", "active": false}, {"x": 1}]}'),
    ).toEqual({ type: 'publisher_layers', track_id: '1', active: [{ rid: 'q', active: true }, { rid: 'f', active: false }] });
  });

  it('parses the drain notice and rejects a bad one', () => {
    expect(parseServerMessage('{"type": "draining", "seconds": 1800}')).toEqual({ type: 'draining', seconds: 1800 });
    expect(parseServerMessage('{"type": "draining", "seconds": "soon"}')).toBeNull();
  });

  it('fills in what an older server leaves out', () => {
    const old = '{"type":"joined","protocol":1,"room":"r","you":{"sid":"p1","identity":"a","name":"A"},"participants":[],"tracks":[{"sid":"p2","track_id":"1","kind":"video"}],"ice_servers":[]}';
    expect(parseServerMessage(old)).toMatchObject({ resume_token: '', chat: [], hands: [], tracks: [{ source: 'camera' }] });
    expect(parseServerMessage('{"type":"track_published","sid":"p1","track_id":"0","kind":"audio","source":"laser"}')).toMatchObject({ source: 'microphone' });
    expect(parseServerMessage('{"type":"chat","message":{"id":"x"}}')).toBeNull();
    expect(parseServerMessage('{"type":"hand_changed","sid":"p1"}')).toBeNull();
  });

  it('parses the documented room events', () => {
    expect(parseServerMessage(examples.participant_joined)).toMatchObject({ type: 'participant_joined', participant: { sid: 'p13', identity: 'max' } });
    expect(parseServerMessage(examples.participant_left)).toEqual({ type: 'participant_left', sid: 'p13', reason: 'left' });
    expect(parseServerMessage(examples.track_published)).toEqual({ type: 'track_published', sid: 'p13', track_id: '1', kind: 'video', source: 'camera' });
    expect(parseServerMessage(examples.track_unpublished)).toEqual({ type: 'track_unpublished', sid: 'p13', track_id: '1' });
    expect(parseServerMessage(examples.pong)).toEqual({ type: 'pong', id: 7 });
  });

  it('parses errors with their fatal flag', () => {
    expect(parseServerMessage(examples.error)).toEqual({
      type: 'error',
      code: 'token_expired',
      message: 'the join token expired at 2026-11-23T08:00:00Z',
      fatal: true,
    });
    expect(parseServerMessage('{"type":"error","code":"bad_sdp","message":"x"}')).toMatchObject({ fatal: false });
  });

  it('ignores unknown fields and fills missing optional flags', () => {
    const m = parseServerMessage('{"type":"participant_updated","extra":1,"participant":{"sid":"p1","identity":"a","name":"A","muted":true}}');
    expect(m).toEqual({
      type: 'participant_updated',
      participant: { sid: 'p1', identity: 'a', name: 'A', moderator: false, muted: true, camera_off: false },
    });
  });

  it('carries SDP unchanged', () => {
    const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
    expect(parseServerMessage(JSON.stringify({ type: 'subscribe_offer', sdp }))).toEqual({ type: 'subscribe_offer', sdp });
    expect(parseServerMessage(JSON.stringify({ type: 'publish_answer', sdp }))).toEqual({ type: 'publish_answer', sdp });
  });

  it('rejects malformed frames and unknown types', () => {
    for (const bad of [
      'not json',
      '[]',
      '"joined"',
      '{}',
      '{"type":5}',
      '{"type":"joined"}',
      '{"type":"subscribe_offer"}',
      '{"type":"track_published","sid":"p1","track_id":"1","kind":"data"}',
      '{"type":"participant_joined","participant":{"sid":"p1"}}',
      '{"type":"something_else"}',
    ]) {
      expect(parseServerMessage(bad), bad).toBeNull();
    }
  });
});

describe('lobby and moderation messages', () => {
  it('parses lobby, lobby_waiting, room_locked and moderated', () => {
    expect(parseServerMessage('{"type":"lobby","waiting":[{"sid":"p4","identity":"g","name":"Gast","guest":true},{"bad":1}]}')).toEqual({
      type: 'lobby',
      waiting: [{ sid: 'p4', identity: 'g', name: 'Gast', guest: true }],
    });
    expect(parseServerMessage('{"type":"lobby_waiting","moderators_present":false}')).toEqual({ type: 'lobby_waiting', moderators_present: false });
    expect(parseServerMessage('{"type":"room_locked","locked":true,"by":"p1"}')).toEqual({ type: 'room_locked', locked: true, by: 'p1' });
    expect(parseServerMessage('{"type":"moderated","action":"remove","by":"p1","ban":true}')).toEqual({ type: 'moderated', action: 'remove', by: 'p1', ban: true });
    expect(parseServerMessage('{"type":"moderated","action":"explode","by":"p1"}')).toBeNull();
    expect(parseServerMessage('{"type":"lobby","waiting":5}')).toBeNull();
  });
});
