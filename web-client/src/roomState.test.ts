import { describe, expect, it } from 'vitest';
import { applyRoomMessage, emptyRoom, isHandRaised, type RoomModel } from './roomState';
import type { ChatEntry, Participant, RoomState, ServerMessage } from './protocol';

const p = (sid: string, name: string, extra: Partial<Participant> = {}): Participant => ({
  sid,
  identity: name.toLowerCase(),
  name,
  moderator: false,
  muted: false,
  camera_off: false,
  ...extra,
});
const chat = (id: number, sid: string, name: string, text: string): ChatEntry => ({ id, sid, identity: name.toLowerCase(), name, text, at: id });
const state = (participants: Participant[]): RoomState => ({
  protocol: 1,
  room: 'r',
  you: p('p1', 'Alice'),
  participants,
  tracks: [],
  ice_servers: [],
  chat: [],
  hands: [],
});
const joined = (participants: Participant[], extra: Partial<RoomState> = {}): ServerMessage => ({ type: 'joined', resume_token: 't', ...state(participants), ...extra });
const resumed = (participants: Participant[], extra: Partial<RoomState> = {}): ServerMessage => ({ type: 'resumed', ...state(participants), ...extra });
const apply = (...msgs: ServerMessage[]): RoomModel => msgs.reduce(applyRoomMessage, emptyRoom);

describe('room model', () => {
  it('starts quietly from joined, with the history, then announces joins, leaves and chat from others', () => {
    let m = apply(joined([p('p2', 'Bob')], { chat: [chat(1, 'p2', 'Bob', 'vorher')], hands: ['p2'] }));
    expect(m.events).toEqual([]);
    expect(m.chat.map((c) => c.text)).toEqual(['vorher']);
    expect(isHandRaised(m, 'p2')).toBe(true);
    m = apply(
      joined([p('p2', 'Bob')]),
      { type: 'participant_joined', participant: p('p3', 'Carol') },
      { type: 'chat', message: chat(1, 'p3', 'Carol', 'Hallo') },
      { type: 'chat', message: chat(1, 'p3', 'Carol', 'Hallo') },
      { type: 'chat', message: chat(2, 'p1', 'Alice', 'selbst') },
      { type: 'participant_left', sid: 'p2', reason: 'left' },
    );
    expect(m.events.map((e) => [e.kind, e.name, e.text])).toEqual([
      ['joined', 'Carol', undefined],
      ['chat', 'Carol', 'Hallo'],
      ['left', 'Bob', undefined],
    ]);
    expect(m.chat.map((c) => c.id)).toEqual([1, 2]);
  });

  it('follows the hand queue and says when a moderator lowered a hand', () => {
    const m = apply(
      joined([p('p2', 'Bob'), p('p3', 'Carol', { moderator: true })]),
      { type: 'hand_changed', sid: 'p1', raised: true, by: 'p1', queue: ['p1'] },
      { type: 'hand_changed', sid: 'p2', raised: true, by: 'p2', queue: ['p1', 'p2'] },
      { type: 'hand_changed', sid: 'p1', raised: false, by: 'p3', queue: ['p2'] },
      { type: 'participant_left', sid: 'p2', reason: 'left' },
    );
    expect(m.hands).toEqual([]);
    expect(m.events.map((e) => [e.kind, e.name, e.byName, e.self])).toEqual([
      ['hand_raised', 'Bob', undefined, false],
      ['hand_lowered', 'Alice', 'Carol', true],
      ['left', 'Bob', undefined, undefined],
    ]);
  });

  it('after a resume: replaces the room, announces only real changes and the missed messages', () => {
    const before = apply(joined([p('p2', 'Bob'), p('p3', 'Carol')], { chat: [chat(1, 'p2', 'Bob', 'eins')] }));
    const after = applyRoomMessage(
      before,
      resumed([p('p3', 'Carol'), p('p4', 'Dora')], { chat: [chat(1, 'p2', 'Bob', 'eins'), chat(2, 'p3', 'Carol', 'zwei'), chat(3, 'p1', 'Alice', 'meins')], hands: ['p3'] }),
    );
    expect(after.roster.order).toEqual(['p3', 'p4']);
    expect(after.hands).toEqual(['p3']);
    expect(after.chat.map((c) => c.id)).toEqual([1, 2, 3]);
    expect(after.events.map((e) => [e.kind, e.name])).toEqual([
      ['left', 'Bob'],
      ['joined', 'Dora'],
      ['chat', 'Carol'],
    ]);
    // A resume that changed nothing says nothing.
    const again = applyRoomMessage(after, resumed([p('p3', 'Carol'), p('p4', 'Dora')], { chat: after.chat as ChatEntry[], hands: ['p3'] }));
    expect(again.events).toHaveLength(after.events.length);
  });

  it('keeps the own state from participant_updated, and tracks in the roster', () => {
    const m = apply(
      joined([p('p2', 'Bob')]),
      { type: 'participant_updated', participant: p('p1', 'Alice', { muted: true }) },
      { type: 'track_published', sid: 'p2', track_id: '2', kind: 'video', source: 'screen' },
    );
    expect(m.self?.muted).toBe(true);
    expect(m.roster.bySid.p2?.tracks['2']).toEqual({ kind: 'video', source: 'screen' });
    expect(applyRoomMessage(m, { type: 'pong', id: 1 })).toBe(m);
  });
});
