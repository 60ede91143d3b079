// The data-testid contract of design.md §3, checked on server-rendered markup (no browser needed).
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { dictionaries } from '../i18n';
import { I18nContext } from './i18nContext';
import { RemoteTile } from './Tile';
import { Controls } from './Controls';
import { ChatPanel } from './ChatPanel';
import { ParticipantsPanel } from './ParticipantsPanel';
import { ScreenShareView } from './ScreenShareView';
import type { Participant } from '../protocol';

const html = (el: React.ReactElement, lang: 'de' | 'en' = 'de') =>
  renderToStaticMarkup(<I18nContext.Provider value={dictionaries[lang]}>{el}</I18nContext.Provider>);

const tile = (over: Partial<React.ComponentProps<typeof RemoteTile>> = {}) =>
  html(
    <RemoteTile
      identity="bob"
      name="Bob Bäcker"
      muted={false}
      cameraOff={false}
      handPosition={0}
      speaking={false}
      quality="good"
      stream={null}
      hasVideo
      pinned={false}
      onPin={() => undefined}
      {...over}
    />,
  );

describe('participant tile', () => {
  it('carries identity and state attributes and always a <video>, even before any track', () => {
    const out = tile();
    expect(out).toMatch(/^<figure [^>]*data-testid="participant-tile"/);
    for (const attr of ['data-identity="bob"', 'data-muted="false"', 'data-camera-off="false"', 'data-hand-raised="false"', 'data-speaking="false"']) {
      expect(out).toContain(attr);
    }
    expect(out).toMatch(/<video[^>]*autoplay=""[^>]*playsinline=""/i);
    expect(out).toContain('Bob Bäcker');
    expect(out).toContain('Verbindung gut');
  });

  it('shows muted, camera-off, hand and speaking state in attributes and readable badges', () => {
    const out = tile({ muted: true, cameraOff: true, handPosition: 2, speaking: true });
    expect(out).toContain('data-muted="true"');
    expect(out).toContain('data-camera-off="true"');
    expect(out).toContain('data-hand-raised="true"');
    expect(out).toContain('data-speaking="true"');
    expect(out).toContain('Stummgeschaltet');
    expect(out).toContain('Kamera aus');
    expect(out).toContain('Hand gehoben (Nr. 2)');
    expect(out).toContain('>BB<'); // initials instead of the picture
  });

  it('has a pin button with a label and pressed state', () => {
    expect(tile({ pinned: true })).toMatch(/<button[^>]*aria-label="Bob Bäcker anheften"[^>]*aria-pressed="true"/);
  });
});

describe('controls', () => {
  const controls = (over: Partial<React.ComponentProps<typeof Controls>> = {}, lang: 'de' | 'en' = 'de') =>
    html(
      <Controls
        muted={false}
        cameraOff={false}
        hasAudio
        hasVideo
        sharing={false}
        canShare
        handRaised={false}
        layout="grid"
        panel={null}
        unread={0}
        keys
        onToggleMic={() => undefined}
        onToggleCamera={() => undefined}
        onToggleShare={() => undefined}
        onToggleHand={() => undefined}
        onToggleLayout={() => undefined}
        onPanel={() => undefined}
        onLeave={() => undefined}
        {...over}
      />,
      lang,
    );

  it('are real buttons with test ids, labels, pressed state and announced shortcuts', () => {
    const out = controls({ muted: true, handRaised: true, sharing: true });
    expect(out).toMatch(/<button type="button" data-testid="mic-toggle"[^>]*aria-label="Stummschalten"[^>]*aria-pressed="true"[^>]*aria-keyshortcuts="M"/);
    expect(out).toMatch(/<button type="button" data-testid="camera-toggle"[^>]*aria-pressed="false"[^>]*aria-keyshortcuts="V"/);
    expect(out).toMatch(/<button type="button" data-testid="screen-share-toggle"[^>]*aria-label="Bildschirm teilen"[^>]*aria-pressed="true"/);
    expect(out).toMatch(/<button type="button" data-testid="raise-hand"[^>]*aria-label="Hand heben"[^>]*aria-pressed="true"/);
    expect(out).toMatch(/<button type="button" data-testid="leave-button"[^>]*aria-label="Besprechung verlassen"/);
    for (const id of ['layout-toggle', 'people-toggle', 'chat-toggle', 'settings-toggle']) expect(out).toContain(`data-testid="${id}"`);
  });

  it('show unread chat messages, and no shortcut hints when shortcuts are off', () => {
    expect(controls({ unread: 3 })).toContain('3 ungelesene Nachrichten');
    expect(controls({ keys: false })).not.toContain('aria-keyshortcuts');
  });

  it('speak English when asked to', () => {
    expect(controls({ cameraOff: true }, 'en')).toMatch(/data-testid="camera-toggle"[^>]*aria-label="Camera off"[^>]*aria-pressed="true"/);
  });
});

describe('chat panel', () => {
  it('lists messages (chat-message) and has the chat-input', () => {
    const out = html(
      <ChatPanel
        messages={[
          { id: 1, sid: 'p2', identity: 'bob', name: 'Bob', text: 'Hallo <b>', at: 0 },
          { id: 2, sid: 'p1', identity: 'alice', name: 'Alice', text: 'Moin', at: 0 },
        ]}
        selfSid="p1"
        lang="de"
        onSend={() => true}
      />,
    );
    expect(out.match(/data-testid="chat-message"/g)).toHaveLength(2);
    expect(out).toContain('Hallo &lt;b&gt;');
    expect(out).toContain('Alice (Sie)');
    expect(out).toMatch(/<textarea[^>]*data-testid="chat-input"/);
    expect(out).toContain('Nachricht an alle');
  });
});

describe('participants panel', () => {
  const p = (sid: string, name: string, extra: Partial<Participant> = {}): Participant => ({
    sid,
    identity: name.toLowerCase(),
    name,
    moderator: false,
    muted: false,
    camera_off: false,
    ...extra,
  });
  const panel = (moderator: boolean) =>
    html(
      <ParticipantsPanel
        self={p('p1', 'Alice', { moderator })}
        others={[{ ...p('p2', 'Bob', { muted: true }), tracks: {} }, { ...p('p3', 'Carol'), tracks: {} }]}
        hands={['p3', 'p2']}
        moderator={moderator}
        onLowerHand={() => undefined}
        onLowerOwnHand={() => undefined}
      />,
    );

  it('lists raised hands in order, with lowering buttons for moderators only', () => {
    const out = panel(true);
    expect(out.indexOf('Carol')).toBeLessThan(out.indexOf('Bob'));
    expect(out.match(/data-testid="lower-hand"/g)).toHaveLength(2);
    expect(out).toContain('Hand von Bob senken');
    expect(panel(false)).not.toContain('data-testid="lower-hand"');
    expect(out).toContain('3 Personen');
  });
});

describe('screen share view', () => {
  it('is the screen-share-view with its video and the sharer', () => {
    const stream = {} as MediaStream;
    const out = html(
      <ScreenShareView shares={[{ sid: 'p2', identity: 'bob', name: 'Bob', stream, own: false }]} selected={null} onSelect={() => undefined} fullscreenRequest={0} />,
    );
    expect(out).toMatch(/<section[^>]*data-testid="screen-share-view"[^>]*data-sharer="bob"/);
    expect(out).toMatch(/<video[^>]*aria-label="Bildschirm von Bob"/);
    expect(out).toContain('Vollbild');
  });
});
