import { describe, expect, it } from 'vitest';
import { applyToRoster, emptyRoster, hasSource, hasTrackOfKind, rosterEntries, sourceOf } from './roster';
import type { Participant, ServerMessage } from './protocol';

const p = (sid: string, identity: string, extra: Partial<Participant> = {}): Participant => ({
  sid,
  identity,
  name: identity.toUpperCase(),
  moderator: false,
  muted: false,
  camera_off: false,
  ...extra,
});

const joined: ServerMessage = {
  type: 'joined',
  protocol: 1,
  room: 'r',
  you: p('p1', 'alice'),
  participants: [p('p2', 'bob')],
  tracks: [
    { sid: 'p2', track_id: '0', kind: 'audio', source: 'microphone' },
    { sid: 'p2', track_id: '1', kind: 'video', source: 'camera' },
  ],
  ice_servers: [],
  resume_token: 't',
  chat: [],
  hands: [],
};

const apply = (...msgs: ServerMessage[]) => msgs.reduce(applyToRoster, emptyRoster);

describe('roster', () => {
  it('starts from joined: the others with their tracks, not oneself', () => {
    const r = apply(joined);
    expect(r.selfSid).toBe('p1');
    expect(rosterEntries(r).map((e) => e.identity)).toEqual(['bob']);
    expect(hasTrackOfKind(r.bySid.p2!, 'video')).toBe(true);
  });

  it('adds, updates and removes participants in order', () => {
    const r = apply(
      joined,
      { type: 'participant_joined', participant: p('p3', 'carol') },
      { type: 'participant_joined', participant: p('p4', 'dave') },
      { type: 'participant_updated', participant: p('p3', 'carol', { muted: true }) },
      { type: 'participant_left', sid: 'p2', reason: 'left' },
    );
    expect(rosterEntries(r).map((e) => [e.identity, e.muted])).toEqual([
      ['carol', true],
      ['dave', false],
    ]);
  });

  it('keeps tracks across updates and follows track events', () => {
    let r = apply(joined, { type: 'participant_updated', participant: p('p2', 'bob', { camera_off: true }) });
    expect(Object.keys(r.bySid.p2!.tracks)).toEqual(['0', '1']);
    r = applyToRoster(r, { type: 'track_unpublished', sid: 'p2', track_id: '1' });
    expect(hasTrackOfKind(r.bySid.p2!, 'video')).toBe(false);
    r = applyToRoster(r, { type: 'track_published', sid: 'p2', track_id: '2', kind: 'video', source: 'screen' });
    expect(r.bySid.p2!.tracks).toEqual({ '0': { kind: 'audio', source: 'microphone' }, '2': { kind: 'video', source: 'screen' } });
    expect(hasSource(r.bySid.p2!, 'screen')).toBe(true);
    expect(hasSource(r.bySid.p2!, 'camera')).toBe(false);
    expect(sourceOf(r, 'p2', '2')).toBe('screen');
    expect(sourceOf(r, 'p2', '9')).toBeNull();
  });

  it('never lists oneself, and leaves the roster untouched by unrelated messages', () => {
    const r = apply(joined);
    expect(applyToRoster(r, { type: 'participant_updated', participant: p('p1', 'alice', { muted: true }) })).toBe(r);
    expect(applyToRoster(r, { type: 'participant_left', sid: 'p99', reason: 'left' })).toBe(r);
    expect(applyToRoster(r, { type: 'track_published', sid: 'p99', track_id: '0', kind: 'audio', source: 'microphone' })).toBe(r);
    expect(applyToRoster(r, { type: 'pong', id: 1 })).toBe(r);
  });

  it('keeps the known order when a resume brings the room anew', () => {
    let r = apply(joined, { type: 'participant_joined', participant: p('p3', 'carol') });
    r = applyToRoster(r, { ...joined, type: 'resumed', participants: [p('p4', 'dave'), p('p3', 'carol'), p('p2', 'bob')] } as ServerMessage);
    expect(r.order).toEqual(['p2', 'p3', 'p4']);
  });
});
