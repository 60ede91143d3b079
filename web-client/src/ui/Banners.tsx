import { errorText } from '../i18n';
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
