import { useT } from './i18nContext';
import { CameraIcon, LeaveIcon, MicIcon } from './Icons';

export interface ControlsProps {
  muted: boolean;
  cameraOff: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
  onToggleMic: () => void;
  onToggleCamera: () => void;
  onLeave: () => void;
}

// Toggle buttons keep one label (the action when pressed) and tell their state with aria-pressed, so the
// accessible name always contains the visible text.
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
        <MicIcon off={p.muted} /> {t.muteMic}
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
        <CameraIcon off={p.cameraOff} /> {t.stopCamera}
      </button>
      <button type="button" data-testid="leave-button" className="danger" aria-label={t.leaveMeeting} onClick={p.onLeave}>
        <LeaveIcon /> {t.leave}
      </button>
    </nav>
  );
}
