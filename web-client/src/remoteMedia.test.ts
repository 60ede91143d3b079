import { describe, expect, it } from 'vitest';
import { RemoteMedia } from './remoteMedia';
import { FakeStream, FakeTrack } from './testing/fakes';
import { applyToRoster, emptyRoster, type Roster } from './roster';
import type { ServerMessage } from './protocol';

const make = (tracks: MediaStreamTrack[]) => new FakeStream('s', tracks as unknown as FakeTrack[]) as unknown as MediaStream;
const t = (kind: 'audio' | 'video', id: string) => new FakeTrack(kind, id) as unknown as MediaStreamTrack;

function roster(...tracks: Array<[string, 'audio' | 'video', 'microphone' | 'camera' | 'screen']>): Roster {
  const joined: ServerMessage = {
    type: 'joined',
    protocol: 1,
    room: 'r',
    you: { sid: 'p1', identity: 'a', name: 'A', moderator: false, muted: false, camera_off: false },
    participants: [{ sid: 'p2', identity: 'b', name: 'B', moderator: false, muted: false, camera_off: false }],
    tracks: tracks.map(([track_id, kind, source]) => ({ sid: 'p2', track_id, kind, source })),
    ice_servers: [],
    resume_token: '',
    chat: [],
    hands: [],
  };
  return applyToRoster(emptyRoster, joined);
}

describe('remote media', () => {
  it('puts camera and microphone together, the screen apart, and reuses streams while nothing changes', () => {
    const media = new RemoteMedia(make);
    const r = roster(['0', 'audio', 'microphone'], ['1', 'video', 'camera'], ['2', 'video', 'screen']);
    const [mic, cam, screen] = [t('audio', 'p2-0'), t('video', 'p2-1'), t('video', 'p2-2')];
    media.add('p2', '0', mic);
    media.add('p2', '1', cam);
    const first = media.compute(r);
    expect(first.get('p2')!.main!.getTracks()).toEqual([mic, cam]);
    expect(first.get('p2')!.screen).toBeNull();
    expect(media.compute(r)).toBe(first);
    media.add('p2', '2', screen);
    const second = media.compute(r);
    expect(second).not.toBe(first);
    expect(second.get('p2')!.main).toBe(first.get('p2')!.main);
    expect(second.get('p2')!.screen!.getTracks()).toEqual([screen]);
    expect(media.owner('p2-2', r)).toEqual({ sid: 'p2', source: 'screen' });
    media.dropTrack('p2', '2');
    expect(media.compute(r).get('p2')!.screen).toBeNull();
    media.removeParticipant('p2');
    expect(media.compute(r).size).toBe(0);
  });

  it('guesses by kind until the roster knows the source', () => {
    const media = new RemoteMedia(make);
    const v = t('video', 'p2-5');
    media.add('p2', '5', v);
    expect(media.compute(emptyRoster).get('p2')!.main!.getTracks()).toEqual([v]);
    const known = roster(['5', 'video', 'screen']);
    expect(media.compute(known).get('p2')!.screen!.getTracks()).toEqual([v]);
  });
});
