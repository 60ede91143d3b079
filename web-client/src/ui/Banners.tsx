import { dictionaries, errorText } from '../i18n';
import type { Phase, SessionError } from '../session';
import { useT } from './i18nContext';

export interface BannersProps {
  phase: Phase;
  mediaTrouble: boolean;
  notice: SessionError | null;
  onDismissNotice: () => void;
  audioBlocked: boolean;
  onEnableAudio: () => void;
  mutedHint: string | null;
  shareFailed: boolean;
  onDismissShare: () => void;
  alone: boolean;
  /** The server drains: the meeting ends at the latest then (ms since the epoch). */
  drainingUntil: number | null;
}

function clockTime(ms: number, lang: string): string {
  return new Date(ms).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}

/** Status lines above the stage: connecting, reconnecting, problems, the muted hint. */
export function Banners(p: BannersProps) {
  const t = useT();
  return (
    <div className="banners">
      {p.phase === 'connecting' && (
        <p className="status" role="status">
          {t.connectingToRoom}
        </p>
      )}
      {(p.phase === 'reconnecting' || (p.phase === 'joined' && p.mediaTrouble)) && (
        <p className="banner reconnecting" role="status" data-testid="reconnecting-banner">
          <span className="spinner" aria-hidden="true" />
          {p.phase === 'reconnecting' ? t.reconnecting : t.mediaReconnecting}
        </p>
      )}
      {p.drainingUntil !== null && (
        <p className="banner draining" role="status" data-testid="draining-banner">
          {t.draining(clockTime(p.drainingUntil, t === dictionaries.en ? 'en-GB' : 'de-DE'))}
        </p>
      )}
      {p.notice && (
        <div className="notice" role="alert">
          <span>{errorText(t, p.notice.code)}</span>
          <button type="button" onClick={p.onDismissNotice}>
            {t.dismiss}
          </button>
        </div>
      )}
      {p.shareFailed && (
        <div className="notice" role="alert">
          <span>{t.screenShareFailed}</span>
          <button type="button" onClick={p.onDismissShare}>
            {t.dismiss}
          </button>
        </div>
      )}
      {p.audioBlocked && (
        <div className="notice" role="alert">
          <span>{t.audioBlocked}</span>
          <button type="button" onClick={p.onEnableAudio}>
            {t.enableAudio}
          </button>
        </div>
      )}
      {p.mutedHint && (
        <p className="banner muted-hint" role="status" data-testid="muted-hint">
          {p.mutedHint}
        </p>
      )}
      {p.alone && <p className="status">{t.aloneHint}</p>}
    </div>
  );
}
