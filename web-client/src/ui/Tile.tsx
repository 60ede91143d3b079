import { useEffect, useRef } from 'react';
import { useT } from './i18nContext';
import { CameraIcon, MicIcon } from './Icons';

/** Attach a stream to a media element and start playing it; reports a blocked autoplay. */
function useMediaStream(
  ref: React.RefObject<HTMLMediaElement | null>,
  stream: MediaStream | null,
  onBlocked?: () => void,
): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) {
      el.play().catch((e: unknown) => {
        if ((e as { name?: string }).name === 'NotAllowedError') onBlocked?.();
      });
    }
  }, [ref, stream, onBlocked]);
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => [...p][0]?.toUpperCase() ?? '').join('') || '?';
}

function Badges({ muted, cameraOff }: { muted: boolean; cameraOff: boolean }) {
  const t = useT();
  return (
    <span className="badges">
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
  stream: MediaStream | null;
  hasVideo: boolean;
  onAudioBlocked: () => void;
}

/** One remote participant: video (always present), its audio through a separate <audio>, name and state. */
export function RemoteTile(p: RemoteTileProps) {
  const t = useT();
  const videoRef = useRef<HTMLVideoElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  useMediaStream(videoRef, p.stream);
  useMediaStream(audioRef, p.stream, p.onAudioBlocked);
  const showAvatar = p.cameraOff || !p.hasVideo;
  return (
    <figure
      className="tile"
      data-testid="participant-tile"
      data-identity={p.identity}
      data-muted={String(p.muted)}
      data-camera-off={String(p.cameraOff)}
      data-hand-raised="false"
      data-speaking="false"
    >
      {/* Muted: the sound plays through the <audio> below, so a blocked autoplay cannot stop the picture. */}
      <video ref={videoRef} autoPlay playsInline muted className={showAvatar ? 'video hidden-video' : 'video'} />
      <audio ref={audioRef} autoPlay data-remote-audio="" />
      {showAvatar && (
        <div className="avatar" aria-hidden="true">
          <span>{initials(p.name)}</span>
          {!p.cameraOff && !p.stream && <small>{t.waitingForVideo}</small>}
        </div>
      )}
      <figcaption className="caption">
        <span className="name">{p.name}</span>
        <Badges muted={p.muted} cameraOff={p.cameraOff} />
      </figcaption>
    </figure>
  );
}

export interface LocalTileProps {
  name: string;
  stream: MediaStream | null;
  muted: boolean;
  cameraOff: boolean;
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
        <span className="name">
          {p.name} ({t.you})
        </span>
        <Badges muted={p.muted} cameraOff={p.cameraOff} />
      </figcaption>
    </figure>
  );
}
