import { useEffect, useRef, useState } from 'react';
import { useT } from './i18nContext';
import { FullscreenIcon, ScreenIcon } from './Icons';
import { useMediaStream } from './useMediaStream';

export interface Share {
  sid: string;
  identity: string;
  name: string;
  stream: MediaStream;
  own: boolean;
}

export interface ScreenShareViewProps {
  shares: readonly Share[];
  selected: string | null;
  onSelect: (sid: string) => void;
  /** Bumped by the F shortcut: toggle full screen. */
  fullscreenRequest: number;
}

/** A shared screen, large; with several shares, buttons choose which one. Full screen on request. */
export function ScreenShareView({ shares, selected, onSelect, fullscreenRequest }: ScreenShareViewProps) {
  const t = useT();
  const ref = useRef<HTMLElement>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const share = shares.find((s) => s.sid === selected) ?? shares[0];
  const [isFull, setFull] = useState(false);
  useMediaStream(videoRef, share?.stream ?? null);

  useEffect(() => {
    const onChange = () => setFull(document.fullscreenElement === ref.current && ref.current !== null);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const toggleFull = () => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void ref.current?.requestFullscreen?.().catch(() => undefined);
  };
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    toggleFull();
  }, [fullscreenRequest]);

  if (!share) return null;
  const label = share.own ? t.ownScreen : t.screenOf(share.name);
  return (
    <section className="share-view" ref={ref} data-testid="screen-share-view" data-sharer={share.identity} aria-label={label}>
      <video ref={videoRef} autoPlay playsInline muted className="share-video" aria-label={label} />
      <div className="share-bar">
        <span className="share-name">
          <ScreenIcon size={16} /> {label}
        </span>
        {shares.length > 1 && (
          <div className="share-pick" role="group" aria-label={t.sharesLabel}>
            {shares.map((s) => (
              <button key={s.sid + (s.own ? '-own' : '')} type="button" aria-pressed={s.sid === share.sid && s.own === share.own} onClick={() => onSelect(s.sid)}>
                {s.own ? t.ownScreen : s.name}
              </button>
            ))}
          </div>
        )}
        <button type="button" className="icon-button" aria-pressed={isFull} aria-keyshortcuts="F" aria-label={isFull ? t.exitFullscreen : t.fullscreen} title={isFull ? t.exitFullscreen : t.fullscreen} onClick={toggleFull}>
          <FullscreenIcon />
        </button>
      </div>
    </section>
  );
}
