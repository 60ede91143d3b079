import { useId } from 'react';
import type { Lang } from '../i18n';
import type { LocalMediaController } from '../localMedia';
import { SHORTCUTS } from '../shortcuts';
import { useT } from './i18nContext';
import { DevicePickers } from './DeviceSelect';
import { LanguageSwitch } from './LanguageSwitch';
import { useSyncExternalStore } from 'react';

export interface SettingsPanelProps {
  local: LocalMediaController | null;
  lang: Lang;
  onLang: (l: Lang) => void;
  shortcuts: boolean;
  onShortcuts: (on: boolean) => void;
}

const noLocal = () => () => undefined;

/** Devices (switchable during the call), language, and the keyboard shortcuts. */
export function SettingsPanel({ local, lang, onLang, shortcuts, onShortcuts }: SettingsPanelProps) {
  const t = useT();
  const checkId = useId();
  const state = useSyncExternalStore(local?.subscribe ?? noLocal, () => local?.getSnapshot() ?? null);
  return (
    <div className="settings">
      {local && state && (
        <DevicePickers
          cameras={state.cameras}
          mics={state.mics}
          speakers={state.speakers}
          cameraId={state.cameraId}
          micId={state.micId}
          speakerId={state.speakerId}
          onCamera={(id) => void local.selectCamera(id)}
          onMic={(id) => void local.selectMic(id)}
          onSpeaker={(id) => local.selectSpeaker(id)}
        />
      )}
      <div className="settings-row">
        <span>{t.languageLabel}</span>
        <LanguageSwitch lang={lang} onChange={onLang} />
      </div>
      <section aria-labelledby="shortcuts-title" id="shortcuts-help">
        <h3 id="shortcuts-title">{t.shortcutsTitle}</h3>
        <div className="check-row">
          <input id={checkId} type="checkbox" checked={shortcuts} onChange={(e) => onShortcuts(e.target.checked)} />
          <label htmlFor={checkId}>{t.shortcutsEnabled}</label>
        </div>
        <dl className="shortcut-list">
          {SHORTCUTS.map((s) => (
            <div key={s.action}>
              <dt>
                <kbd>{s.key}</kbd>
              </dt>
              <dd>{t.shortcuts[s.action]}</dd>
            </div>
          ))}
        </dl>
        <p className="muted-text">{t.shortcutsHint}</p>
      </section>
    </div>
  );
}
