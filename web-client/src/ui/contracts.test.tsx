// The data-testid contract of design.md §3, checked on server-rendered markup (no browser needed).
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { dictionaries } from '../i18n';
import { I18nContext } from './i18nContext';
import { RemoteTile } from './Tile';
import { Controls } from './Controls';

const html = (el: React.ReactElement, lang: 'de' | 'en' = 'de') =>
  renderToStaticMarkup(<I18nContext.Provider value={dictionaries[lang]}>{el}</I18nContext.Provider>);

const tile = (over: Partial<React.ComponentProps<typeof RemoteTile>> = {}) =>
  html(
    <RemoteTile identity="bob" name="Bob Bäcker" muted={false} cameraOff={false} stream={null} hasVideo onAudioBlocked={() => undefined} {...over} />,
  );

describe('participant tile', () => {
  it('carries identity and state attributes and always a <video>, even before any track', () => {
    const out = tile();
    expect(out).toMatch(/^<figure [^>]*data-testid="participant-tile"/);
    for (const attr of ['data-identity="bob"', 'data-muted="false"', 'data-camera-off="false"', 'data-hand-raised="false"', 'data-speaking="false"']) {
      expect(out).toContain(attr);
    }
    expect(out).toMatch(/<video[^>]*autoplay=""[^>]*playsinline=""/i);
    expect(out).toMatch(/<audio[^>]*autoplay=""/i);
    expect(out).toContain('Bob Bäcker');
  });

  it('shows muted and camera-off state in attributes and readable badges', () => {
    const out = tile({ muted: true, cameraOff: true });
    expect(out).toContain('data-muted="true"');
    expect(out).toContain('data-camera-off="true"');
    expect(out).toContain('Stummgeschaltet');
    expect(out).toContain('Kamera aus');
    expect(out).toContain('>BB<'); // initials instead of the picture
  });
});

describe('controls', () => {
  const controls = (muted: boolean, cameraOff: boolean, lang: 'de' | 'en' = 'de') =>
    html(
      <Controls
        muted={muted}
        cameraOff={cameraOff}
        hasAudio
        hasVideo
        onToggleMic={() => undefined}
        onToggleCamera={() => undefined}
        onLeave={() => undefined}
      />,
      lang,
    );

  it('are real buttons with test ids, labels and pressed state', () => {
    const out = controls(true, false);
    expect(out).toMatch(/<button type="button" data-testid="mic-toggle"[^>]*aria-label="Stummschalten"[^>]*aria-pressed="true"/);
    expect(out).toMatch(/<button type="button" data-testid="camera-toggle"[^>]*aria-pressed="false"/);
    expect(out).toMatch(/<button type="button" data-testid="leave-button"[^>]*aria-label="Besprechung verlassen"/);
  });

  it('speak English when asked to', () => {
    expect(controls(false, true, 'en')).toMatch(/data-testid="camera-toggle"[^>]*aria-label="Camera off"[^>]*aria-pressed="true"/);
  });
});
