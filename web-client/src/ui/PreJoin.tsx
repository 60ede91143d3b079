import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { LevelMeter, type LocalMedia } from '../media';
import { normalizeDisplayName } from '../joinLink';
import type { Lang } from '../i18n';
import { useT } from './i18nContext';
import { LanguageSwitch } from './LanguageSwitch';

function MicMeter({ stream }: { stream: MediaStream | null }) {
  const t = useT();
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!stream) return;
    const m = new LevelMeter(stream, setLevel);
    // WebAudio may only start after a user gesture.
    const resume = () => m.resume();
    window.addEventListener('pointerdown', resume);
    window.addEventListener('keydown', resume);
    return () => {
      window.removeEventListener('pointerdown', resume);
      window.removeEventListener('keydown', resume);
      m.stop();
    };
  }, [stream]);
  const pct = Math.round(level * 100);
  return (
    <div className="meter-row">
      <span id="mic-meter-label">{t.micLevelLabel}</span>
      <div className="meter" role="meter" aria-labelledby="mic-meter-label" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="mic-level">
        <div className="meter-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export interface PreJoinProps {
  lang: Lang;
  onLang: (l: Lang) => void;
  room: string;
  identity: string | null;
  name: string;
  onName: (name: string) => void;
  /** null while camera and microphone are being started. */
  media: LocalMedia | null;
  joining: boolean;
  onJoin: (name: string) => void;
}

export function PreJoin(p: PreJoinProps) {
  const t = useT();
  const nameId = useId();
  const errId = useId();
  const videoRef = useRef<HTMLVideoElement>(null);
  const [showError, setShowError] = useState(false);
  const stream = p.media?.stream ?? null;
  const hasVideo = !!stream && stream.getVideoTracks().length > 0;

  useEffect(() => {
    const v = videoRef.current;
    if (v && v.srcObject !== stream) v.srcObject = stream;
  }, [stream]);

  const valid = normalizeDisplayName(p.name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!valid) {
      setShowError(true);
      return;
    }
    p.onJoin(valid);
  };

  return (
    <main className="prejoin card">
      <div className="prejoin-top">
        <h1>{t.prejoinTitle}</h1>
        <LanguageSwitch lang={p.lang} onChange={p.onLang} />
      </div>
      <dl className="facts">
        <dt>{t.roomLabel}</dt>
        <dd data-testid="room-name">{p.room}</dd>
        {p.identity && (
          <>
            <dt>{t.identityLabel}</dt>
            <dd>{p.identity}</dd>
          </>
        )}
      </dl>
      <div className="preview">
        <video ref={videoRef} className={hasVideo ? 'video mirror' : 'video mirror hidden-video'} muted playsInline autoPlay aria-label={t.previewLabel} />
        {!hasVideo && <div className="avatar"><small>{p.media ? t.noCamera : t.mediaStarting}</small></div>}
      </div>
      <MicMeter stream={stream} />
      {p.media?.problem && (
        <p className="warning" role="status">
          {p.media.problem === 'denied' ? t.mediaDenied : t.mediaUnavailable}
        </p>
      )}
      <form onSubmit={submit} className="join-form" noValidate>
        <label htmlFor={nameId}>{t.nameLabel}</label>
        <input
          id={nameId}
          data-testid="display-name"
          type="text"
          autoComplete="name"
          maxLength={64}
          value={p.name}
          aria-invalid={showError && !valid}
          aria-describedby={showError && !valid ? errId : undefined}
          onChange={(e) => p.onName(e.target.value)}
        />
        {showError && !valid && (
          <p id={errId} className="field-error" role="alert">
            {t.nameInvalid}
          </p>
        )}
        <button type="submit" className="primary" data-testid="join-button" disabled={p.joining || !p.media}>
          {p.joining ? t.joining : t.joinButton}
        </button>
      </form>
    </main>
  );
}
