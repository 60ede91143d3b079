import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { LevelMeter } from '../media';
import { normalizeDisplayName } from '../joinLink';
import type { Lang } from '../i18n';
import type { LocalMediaController, LocalMediaState } from '../localMedia';
import { useT } from './i18nContext';
import { LanguageSwitch } from './LanguageSwitch';
import { DevicePickers } from './DeviceSelect';

function MicMeter({ track }: { track: MediaStreamTrack | null }) {
  const t = useT();
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track || typeof MediaStream === 'undefined') return;
    const m = new LevelMeter(new MediaStream([track]), setLevel);
    // WebAudio may only start after a user gesture.
    const resume = () => m.resume();
    window.addEventListener('pointerdown', resume);
    window.addEventListener('keydown', resume);
    return () => {
      window.removeEventListener('pointerdown', resume);
      window.removeEventListener('keydown', resume);
      m.stop();
      setLevel(0);
    };
  }, [track]);
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

/** What is wrong with the devices, in words; null when all is fine. */
export function deviceProblems(t: ReturnType<typeof useT>, s: LocalMediaState): string[] {
  if (!s.ready) return [];
  if (s.micProblem === 'denied' && s.cameraProblem === 'denied') return [t.mediaDenied];
  if (s.micProblem && s.cameraProblem) return [t.mediaUnavailable];
  const out: string[] = [];
  if (s.cameraProblem === 'denied') out.push(t.cameraDenied);
  else if (s.cameraProblem === 'unavailable') out.push(t.cameraUnavailable);
  if (s.micProblem === 'denied') out.push(t.micDenied);
  else if (s.micProblem === 'unavailable') out.push(t.micUnavailable);
  return out;
}

export interface PreJoinProps {
  lang: Lang;
  onLang: (l: Lang) => void;
  room: string;
  identity: string | null;
  name: string;
  onName: (name: string) => void;
  local: LocalMediaController | null;
  joining: boolean;
  onJoin: (name: string) => void;
}

const noLocal = () => () => undefined;

export function PreJoin(p: PreJoinProps) {
  const t = useT();
  const nameId = useId();
  const errId = useId();
  const mutedId = useId();
  const camOffId = useId();
  const videoRef = useRef<HTMLVideoElement>(null);
  const [showError, setShowError] = useState(false);
  const local = p.local;
  const s = useSyncExternalStore(local?.subscribe ?? noLocal, () => local?.getSnapshot() ?? null);
  const stream = s?.preview ?? null;
  const hasVideo = !!s?.camera;

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
  const problems = s ? deviceProblems(t, s) : [];
  const listenOnly = !!s?.ready && !s.mic && !s.camera && !s.cameraOff;

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
        {!hasVideo && (
          <div className="avatar">
            <small>{!s?.ready ? t.mediaStarting : s.cameraOff ? t.cameraIsOff : t.noCamera}</small>
          </div>
        )}
      </div>
      <MicMeter track={s?.muted ? null : (s?.mic ?? null)} />
      {problems.map((text) => (
        <p key={text} className="warning" role="status" data-testid="media-problem">
          {text}
        </p>
      ))}
      {local && s?.ready && (
        <DevicePickers
          cameras={s.cameras}
          mics={s.mics}
          speakers={s.speakers}
          cameraId={s.cameraId}
          micId={s.micId}
          speakerId={s.speakerId}
          onCamera={(id) => void local.selectCamera(id)}
          onMic={(id) => void local.selectMic(id)}
          onSpeaker={(id) => local.selectSpeaker(id)}
        />
      )}
      <form onSubmit={submit} className="join-form" noValidate>
        {local && s?.ready && (
          <div className="join-options">
            <div className="check-row">
              <input id={mutedId} type="checkbox" data-testid="join-muted" checked={s.muted} disabled={!s.mic} onChange={(e) => local.setMuted(e.target.checked)} />
              <label htmlFor={mutedId}>{t.joinMuted}</label>
            </div>
            <div className="check-row">
              <input
                id={camOffId}
                type="checkbox"
                data-testid="join-camera-off"
                checked={s.cameraOff}
                disabled={!s.camera && !s.cameraOff}
                onChange={(e) => void local.setCameraOff(e.target.checked)}
              />
              <label htmlFor={camOffId}>{t.joinCameraOff}</label>
            </div>
          </div>
        )}
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
        <button type="submit" className="primary" data-testid="join-button" disabled={p.joining || !s?.ready}>
          {p.joining ? t.joining : listenOnly ? t.joinListenOnly : t.joinButton}
        </button>
      </form>
    </main>
  );
}
