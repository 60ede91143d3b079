import { describe, expect, it } from 'vitest';
import { VideoSizer, wantedSizes } from './videoSizes';
import { applyToRoster, emptyRoster } from './roster';
import type { ServerMessage } from './protocol';

const who = (sid: string) => ({ sid, identity: sid, name: sid, moderator: false, muted: false, camera_off: false });
const roster = applyToRoster(emptyRoster, {
  type: 'joined',
  protocol: 1,
  room: 'r',
  you: who('p1'),
  participants: [who('p2'), who('p3')],
  tracks: [
    { sid: 'p2', track_id: '0', kind: 'audio', source: 'microphone' },
    { sid: 'p2', track_id: '1', kind: 'video', source: 'camera' },
    { sid: 'p2', track_id: '2', kind: 'video', source: 'screen' },
    { sid: 'p3', track_id: '1', kind: 'video', source: 'camera' },
  ],
  ice_servers: [],
  resume_token: '',
  chat: [],
  hands: [],
} as ServerMessage);

describe('video sizes', () => {
  it('size shown videos, zero hidden ones (other pages, unselected shares), never audio', () => {
    const sizes = wantedSizes(roster, { tiles: { p2: { width: 320.4, height: 180 } }, share: null });
    expect(sizes).toEqual([
      { sid: 'p2', track_id: '1', width: 320, height: 180 },
      { sid: 'p2', track_id: '2', width: 0, height: 0 },
      { sid: 'p3', track_id: '1', width: 0, height: 0 },
    ]);
    const sharing = wantedSizes(roster, { tiles: { p2: { width: 192, height: 108 } }, share: { sid: 'p2', width: 1200, height: 600 } });
    expect(sharing.find((s) => s.track_id === '2')).toEqual({ sid: 'p2', track_id: '2', width: 1200, height: 600 });
  });

  it('send only changes, and everything again after a reset', () => {
    const sizer = new VideoSizer();
    const view = { tiles: { p2: { width: 640, height: 360 }, p3: { width: 640, height: 360 } }, share: null };
    expect(sizer.changes(roster, view).flat()).toHaveLength(3);
    expect(sizer.changes(roster, view)).toEqual([]);
    const paged = { tiles: { p2: { width: 640, height: 360 } }, share: null };
    expect(sizer.changes(roster, paged)).toEqual([[{ sid: 'p3', track_id: '1', width: 0, height: 0 }]]);
    sizer.reset();
    expect(sizer.changes(roster, paged).flat()).toHaveLength(3);
  });
});
