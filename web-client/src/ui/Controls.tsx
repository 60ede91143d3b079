import { useT } from './i18nContext';

export interface ControlsProps {
  muted: boolean;
  cameraOff: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
  onToggleMic: () => void;
  onToggleCamera: () => void;
  onLeave: () => void;
}

export function Controls(p: ControlsProps) {
  const t = useT();
  return (
    <nav className="controls" aria-label={t.controlsLabel}>
      <button
        type="button"
        data-testid="mic-toggle"
        className={p.muted ? 'toggle off' : 'toggle'}
        aria-label={t.muteMic}
        aria-pressed={p.muted}
        disabled={!p.hasAudio}
        onClick={p.onToggleMic}
      >
        <span aria-hidden="true">{p.muted ? '🔇' : '🎤'}</span> {p.muted ? t.micOff : t.micOn}
      </button>
      <button
        type="button"
        data-testid="camera-toggle"
        className={p.cameraOff ? 'toggle off' : 'toggle'}
        aria-label={t.stopCamera}
        aria-pressed={p.cameraOff}
        disabled={!p.hasVideo}
        onClick={p.onToggleCamera}
      >
        <span aria-hidden="true">{p.cameraOff ? '🚫' : '📷'}</span> {p.cameraOff ? t.cameraOff : t.cameraOn}
      </button>
      <button type="button" data-testid="leave-button" className="danger" aria-label={t.leaveMeeting} onClick={p.onLeave}>
        {t.leave}
      </button>
    </nav>
  );
}
