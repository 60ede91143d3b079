import { useRef } from 'react';
import type { Quality } from '../quality';
import { useT } from './i18nContext';
import { CameraIcon, HandIcon, MicIcon, PinIcon } from './Icons';
import { QualityBadge } from './QualityBadge';
import { useMediaStream } from './useMediaStream';

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => [...p][0]?.toUpperCase() ?? '').join('') || '?';
}

function Badges({ muted, cameraOff, handPosition }: { muted: boolean; cameraOff: boolean; handPosition: number }) {
  const t = useT();
  return (
    <span className="badges">
      {handPosition > 0 && (
        <span className="badge hand" title={t.handBadge(handPosition)}>
          <HandIcon size={16} />
          <span aria-hidden="true">{handPosition}</span>
          <span className="sr-only">{t.handBadge(handPosition)}</span>
        </span>
      )}
      {muted && (
        <span className="badge" title={t.mutedBadge}>
          <MicIcon off size={16} />
          <span className="sr-only">{t.mutedBadge}</span>
        </span>
      )}
      {cameraOff && (
        <span className="badge" title={t.cameraOffBadge}>
          <CameraIcon off size={16} />
          <span className="sr-only">{t.cameraOffBadge}</span>
        </span>
      )}
    </span>
  );
}

export interface RemoteTileProps {
  identity: string;
  name: string;
  muted: boolean;
  cameraOff: boolean;
  /** Place in the hand queue (1 = first), 0 when the hand is down. */
  handPosition: number;
  speaking: boolean;
  quality: Quality;
  /** Camera and microphone. */
  stream: MediaStream | null;
  hasVideo: boolean;
  /** The SFU paused this video for the own bandwidth. */
  videoPaused?: boolean;
  pinned: boolean;
  onPin: () => void;
}

/** One remote participant: video (always present; its sound plays elsewhere), name and state. */
export function RemoteTile(p: RemoteTileProps) {
  const t = useT();
  const videoRef = useRef<HTMLVideoElement>(null);
  useMediaStream(videoRef, p.stream);
  const showAvatar = p.cameraOff || !p.hasVideo || !!p.videoPaused;
  const classes = ['tile', p.speaking ? 'speaking' : '', p.pinned ? 'pinned' : ''].filter(Boolean).join(' ');
  return (
    <figure
      className={classes}
      data-testid="participant-tile"
      data-identity={p.identity}
      data-muted={String(p.muted)}
      data-camera-off={String(p.cameraOff)}
      data-hand-raised={String(p.handPosition > 0)}
      data-speaking={String(p.speaking)}
      data-video-paused={String(!!p.videoPaused)}
    >
      <video ref={videoRef} autoPlay playsInline muted className={showAvatar ? 'video hidden-video' : 'video'} />
      {showAvatar && (
        <div className="avatar" aria-hidden="true" data-testid="tile-avatar">
          <span>{initials(p.name)}</span>
          {!p.cameraOff && p.videoPaused && <small>{t.videoPaused}</small>}
          {!p.cameraOff && !p.videoPaused && !p.stream && <small>{t.waitingForVideo}</small>}
        </div>
      )}
      <button
        type="button"
        className="tile-pin"
        aria-label={t.pin(p.name)}
        aria-pressed={p.pinned}
        title={t.pin(p.name)}
        onClick={p.onPin}
      >
        <PinIcon size={16} />
      </button>
      <figcaption className="caption">
        <QualityBadge quality={p.quality} />
        <span className="name">{p.name}</span>
        {p.speaking && <span className="sr-only">{t.speakingBadge}</span>}
        <Badges muted={p.muted} cameraOff={p.cameraOff} handPosition={p.handPosition} />
      </figcaption>
    </figure>
  );
}

export interface LocalTileProps {
  name: string;
  stream: MediaStream | null;
  muted: boolean;
  cameraOff: boolean;
  handPosition: number;
  quality: Quality;
}

/** The own camera preview (mirrored, always muted). */
export function LocalTile(p: LocalTileProps) {
  const t = useT();
  const videoRef = useRef<HTMLVideoElement>(null);
  useMediaStream(videoRef, p.stream);
  const hasVideo = !!p.stream && p.stream.getVideoTracks().length > 0;
  const showAvatar = p.cameraOff || !hasVideo;
  return (
    <figure className="tile local" data-testid="local-tile">
      <video ref={videoRef} autoPlay playsInline muted className={showAvatar ? 'video mirror hidden-video' : 'video mirror'} />
      {showAvatar && (
        <div className="avatar" aria-hidden="true">
          <span>{initials(p.name)}</span>
        </div>
      )}
      <figcaption className="caption">
        <QualityBadge quality={p.quality} own />
        <span className="name">
          {p.name} ({t.you})
        </span>
        <Badges muted={p.muted} cameraOff={p.cameraOff} handPosition={p.handPosition} />
      </figcaption>
    </figure>
  );
}
