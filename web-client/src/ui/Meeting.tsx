import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import type { MeetingSession } from '../session';
import { hasTrackOfKind, rosterEntries } from '../roster';
import { errorText } from '../i18n';
import { bestLayout } from '../layout';
import { useElementSize } from './useElementSize';
import { useT } from './i18nContext';
import { LocalTile, RemoteTile } from './Tile';
import { Controls } from './Controls';
import { FailedScreen, LeftScreen } from './Screens';

export interface MeetingProps {
  session: MeetingSession;
  room: string;
  name: string;
  onRejoin: () => void;
  onBackToStart: () => void;
}

const GAP = 8;

export function Meeting({ session, room, name, onRejoin, onBackToStart }: MeetingProps) {
  const t = useT();
  const snap = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const [audioBlocked, setAudioBlocked] = useState(false);
  const onAudioBlocked = useCallback(() => setAudioBlocked(true), []);
  const stageRef = useRef<HTMLElement>(null);
  const stage = useElementSize(stageRef);

  if (snap.phase === 'left') return <LeftScreen onRejoin={onRejoin} />;
  if (snap.phase === 'failed' && snap.fatal) return <FailedScreen code={snap.fatal.code} onRetry={onBackToStart} />;

  const remotes = rosterEntries(snap.roster);
  const count = remotes.length + 1;
  const layout = bestLayout(count, stage.width, stage.height, 16 / 9, GAP);

  const enableAudio = () => {
    document.querySelectorAll<HTMLAudioElement>('audio[data-remote-audio]').forEach((a) => void a.play().catch(() => undefined));
    setAudioBlocked(false);
  };

  return (
    <main className="meeting" aria-label={t.meetingLabel}>
      <header className="meeting-header">
        <h1>
          {t.appName} · {room}
        </h1>
        <span className="count">{t.participantsCount(count)}</span>
      </header>
      {snap.phase === 'connecting' && (
        <p className="status" role="status">
          {t.connectingToRoom}
        </p>
      )}
      {snap.notice && (
        <div className="notice" role="alert">
          <span>{errorText(t, snap.notice.code)}</span>
          <button type="button" onClick={() => session.dismissNotice()}>
            {t.dismiss}
          </button>
        </div>
      )}
      {audioBlocked && (
        <div className="notice" role="alert">
          <span>{t.audioBlocked}</span>
          <button type="button" onClick={enableAudio}>
            {t.enableAudio}
          </button>
        </div>
      )}
      {snap.phase === 'joined' && remotes.length === 0 && <p className="status">{t.aloneHint}</p>}
      <section className="stage" ref={stageRef}>
        <div
          className="grid"
          style={{
            gap: GAP,
            gridTemplateColumns: `repeat(${layout.cols}, ${layout.tileWidth}px)`,
            gridAutoRows: `${layout.tileHeight}px`,
          }}
        >
          <LocalTile name={snap.self?.name ?? name} stream={session.localStream} muted={snap.muted} cameraOff={snap.cameraOff} />
          {remotes.map((p) => (
            <RemoteTile
              key={p.sid}
              identity={p.identity}
              name={p.name}
              muted={p.muted}
              cameraOff={p.camera_off}
              stream={snap.streams.get(p.sid) ?? null}
              hasVideo={hasTrackOfKind(p, 'video') || !!snap.streams.get(p.sid)?.getVideoTracks().length}
              onAudioBlocked={onAudioBlocked}
            />
          ))}
        </div>
      </section>
      <Controls
        muted={snap.muted}
        cameraOff={snap.cameraOff}
        hasAudio={!!session.localStream?.getAudioTracks().length}
        hasVideo={!!session.localStream?.getVideoTracks().length}
        onToggleMic={() => session.setMuted(!snap.muted)}
        onToggleCamera={() => session.setCameraOff(!snap.cameraOff)}
        onLeave={() => session.leave()}
      />
    </main>
  );
}
