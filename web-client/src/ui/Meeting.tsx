import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { MeetingSession } from '../session';
import type { LocalMediaController } from '../localMedia';
import type { Lang } from '../i18n';
import { hasSource, rosterEntries } from '../roster';
import { isHandRaised } from '../roomState';
import { setShortcutsEnabled, shortcutsEnabled, type ShortcutAction } from '../shortcuts';
import { useT } from './i18nContext';
import { LocalTile, RemoteTile } from './Tile';
import { Controls, type LayoutMode, type Panel } from './Controls';
import { FailedScreen, LeftScreen } from './Screens';
import { Stage, type StageTile } from './Stage';
import type { Share } from './ScreenShareView';
import { SidePanel } from './SidePanel';
import { ChatPanel } from './ChatPanel';
import { ParticipantsPanel } from './ParticipantsPanel';
import { SettingsPanel } from './SettingsPanel';
import { Announcer } from './Announcer';
import { AudioSinks } from './AudioSinks';
import { Banners } from './Banners';
import { LobbyPanel, LobbyScreen } from './Lobby';
import { QualityBadge } from './QualityBadge';
import { useShortcuts } from './useShortcuts';
import { useMutedHint } from './useMutedHint';

export interface MeetingProps {
  session: MeetingSession;
  local: LocalMediaController | null;
  room: string;
  name: string;
  lang: Lang;
  onLang: (l: Lang) => void;
  onRejoin: () => void;
  onBackToStart: () => void;
}

const noLocal = () => () => undefined;

export function Meeting({ session, local, room, name, lang, onLang, onRejoin, onBackToStart }: MeetingProps) {
  const t = useT();
  const snap = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const localState = useSyncExternalStore(local?.subscribe ?? noLocal, () => local?.getSnapshot() ?? null);
  const [audioBlocked, setAudioBlocked] = useState(false);
  const [layout, setLayout] = useState<LayoutMode>('grid');
  const [pinned, setPinned] = useState<string | null>(null);
  const [panel, setPanel] = useState<Panel | null>(null);
  const [keys, setKeys] = useState(shortcutsEnabled);
  const [fullscreenRequest, setFullscreenRequest] = useState(0);
  const [shareFailed, setShareFailed] = useState(false);
  const [readUpTo, setReadUpTo] = useState(0);
  const [reconnected, setReconnected] = useState<{ id: number; text: string } | null>(null);
  const onAudioBlocked = useCallback(() => setAudioBlocked(true), []);
  const wasReconnecting = useRef(false);

  const { room: model } = snap;
  const self = model.self;
  const remotes = rosterEntries(model.roster);
  const handPos = (sid: string | undefined) => (sid ? model.hands.indexOf(sid) + 1 : 0);
  const myHand = isHandRaised(model, self?.sid);
  const hasAudio = !!localState?.mic;
  const hasVideo = !!localState?.camera || (!!localState && localState.cameraOff && localState.cameraProblem === null);
  const mutedHint = useMutedHint(localState?.mic ?? null, snap.muted && snap.phase === 'joined');

  // Chat read state: everything is read while the chat is open.
  const lastChatId = model.chat.length ? model.chat[model.chat.length - 1].id : 0;
  useEffect(() => {
    if (panel === 'chat') setReadUpTo(lastChatId);
  }, [panel, lastChatId]);
  const unread = model.chat.filter((c) => c.id > readUpTo && c.sid !== self?.sid).length;

  useEffect(() => {
    if (snap.phase === 'reconnecting') wasReconnecting.current = true;
    if (snap.phase === 'joined' && wasReconnecting.current) {
      wasReconnecting.current = false;
      setReconnected((r) => ({ id: (r?.id ?? 0) + 1, text: t.announce.reconnected }));
    }
  }, [snap.phase, t]);

  const togglePanel = (p: Panel) => setPanel((cur) => (cur === p ? null : p));
  const toggleShare = () => {
    if (snap.screen) return session.stopScreenShare();
    setShareFailed(false);
    void session.startScreenShare().then((ok) => setShareFailed(!ok));
  };
  const toggleMic = () => hasAudio && session.setMuted(!snap.muted);
  const toggleCamera = () => hasVideo && void session.setCameraOff(!snap.cameraOff);

  useShortcuts(keys && (snap.phase === 'joined' || snap.phase === 'reconnecting'), (action: ShortcutAction) => {
    switch (action) {
      case 'mic':
        return toggleMic();
      case 'camera':
        return toggleCamera();
      case 'hand':
        return session.setHand(!myHand);
      case 'share':
        return toggleShare();
      case 'chat':
        return togglePanel('chat');
      case 'people':
        return togglePanel('people');
      case 'layout':
        return setLayout((l) => (l === 'grid' ? 'speaker' : 'grid'));
      case 'fullscreen':
        return setFullscreenRequest((n) => n + 1);
      case 'help':
        return setPanel('settings');
    }
  });

  const shares: Share[] = useMemo(() => {
    const out: Share[] = [];
    for (const p of remotes) {
      const stream = snap.media.get(p.sid)?.screen;
      if (stream && stream.getVideoTracks().length > 0 && hasSource(p, 'screen')) out.push({ sid: p.sid, identity: p.identity, name: p.name, stream, own: false });
    }
    if (snap.screen && self) out.push({ sid: self.sid, identity: self.identity, name: self.name, stream: snap.screen, own: true });
    return out;
  }, [remotes, snap.media, snap.screen, self]);

  if (snap.phase === 'left') return <LeftScreen onRejoin={onRejoin} />;
  if (snap.phase === 'failed' && snap.fatal) return <FailedScreen code={snap.fatal.code} onRetry={onBackToStart} />;
  if (snap.phase === 'lobby') return <LobbyScreen moderatorsPresent={snap.moderatorsPresent} onLeave={() => session.leave()} />;

  const tiles: StageTile[] = [
    {
      key: 'self',
      render: () => (
        <LocalTile name={self?.name ?? name} stream={localState?.preview ?? null} muted={snap.muted || !hasAudio} cameraOff={snap.cameraOff || !localState?.camera} handPosition={handPos(self?.sid)} quality={snap.ownQuality} />
      ),
    },
    ...remotes.map((p) => {
      const main = snap.media.get(p.sid)?.main ?? null;
      return {
        key: p.sid,
        render: () => (
          <RemoteTile
            identity={p.identity}
            name={p.name}
            muted={p.muted}
            cameraOff={p.camera_off}
            handPosition={handPos(p.sid)}
            speaking={snap.speaking.has(p.sid)}
            quality={snap.quality[p.sid] ?? 'unknown'}
            stream={main}
            hasVideo={hasSource(p, 'camera') || !!main?.getVideoTracks().length}
            videoPaused={Object.entries(p.tracks).some(([id, tr]) => tr.source === 'camera' && snap.pausedVideo.has(`${p.sid}/${id}`))}
            pinned={pinned === p.sid}
            onPin={() => setPinned((cur) => (cur === p.sid ? null : p.sid))}
          />
        ),
      };
    }),
  ];
  const focus = pinned && model.roster.bySid[pinned] ? pinned : snap.activeSpeaker;

  return (
    <main className={panel ? 'meeting with-panel' : 'meeting'} aria-label={t.meetingLabel}>
      <header className="meeting-header">
        <h1>
          {t.appName} · {room}
        </h1>
        <span className="count">{t.participantsCount(remotes.length + 1)}</span>
        {snap.locked && <span className="tag" data-testid="locked-badge">{t.lockedBadge}</span>}
        <QualityBadge quality={snap.ownQuality} own />
      </header>
      {self?.moderator && <LobbyPanel waiting={snap.lobby} onAnswer={(sid, admit) => session.answerLobby(sid, admit)} />}
      <Banners
        phase={snap.phase}
        mediaTrouble={snap.mediaTrouble}
        notice={snap.notice}
        onDismissNotice={() => session.dismissNotice()}
        audioBlocked={audioBlocked}
        onEnableAudio={() => {
          document.querySelectorAll<HTMLAudioElement>('audio[data-remote-audio]').forEach((a) => void a.play().catch(() => undefined));
          setAudioBlocked(false);
        }}
        mutedHint={mutedHint ? (keys ? t.mutedHint : t.mutedHintNoKeys) : null}
        shareFailed={shareFailed}
        onDismissShare={() => setShareFailed(false)}
        alone={snap.phase === 'joined' && remotes.length === 0}
        drainingUntil={snap.drainingUntil}
      />
      <div className="meeting-body">
        <Stage
          tiles={tiles}
          layout={pinned ? 'speaker' : layout}
          focus={focus}
          shares={shares}
          fullscreenRequest={fullscreenRequest}
          onView={(view) => session.setView(view)}
        />
        {panel && (
          <SidePanel panel={panel} onClose={() => setPanel(null)}>
            {panel === 'chat' && <ChatPanel messages={model.chat} selfSid={self?.sid ?? null} lang={lang} onSend={(text) => session.sendChat(text)} />}
            {panel === 'people' && (
              <ParticipantsPanel
                self={self}
                others={remotes}
                hands={model.hands}
                moderator={!!self?.moderator}
                onLowerHand={(sid) => session.lowerHandOf(sid)}
                onLowerOwnHand={() => session.setHand(false)}
                onModerate={(action, sid, ban) => session.moderate(action, sid, ban)}
                locked={snap.locked}
              />
            )}
            {panel === 'settings' && (
              <SettingsPanel
                local={local}
                lang={lang}
                onLang={onLang}
                shortcuts={keys}
                onShortcuts={(on) => {
                  setKeys(on);
                  setShortcutsEnabled(on);
                }}
              />
            )}
          </SidePanel>
        )}
      </div>
      <Controls
        muted={snap.muted || !hasAudio}
        cameraOff={snap.cameraOff || !localState?.camera}
        hasAudio={hasAudio}
        hasVideo={hasVideo}
        sharing={!!snap.screen}
        canShare={typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getDisplayMedia && session.canPublish}
        handRaised={myHand}
        layout={pinned ? 'speaker' : layout}
        panel={panel}
        unread={unread}
        keys={keys}
        onToggleMic={toggleMic}
        onToggleCamera={toggleCamera}
        onToggleShare={toggleShare}
        onToggleHand={() => session.setHand(!myHand)}
        onToggleLayout={() => {
          setPinned(null);
          setLayout((l) => (l === 'grid' ? 'speaker' : 'grid'));
        }}
        onPanel={togglePanel}
        onLeave={() => session.leave()}
      />
      <AudioSinks media={snap.media} sinkId={localState?.speakerId ?? null} onBlocked={onAudioBlocked} />
      <Announcer events={model.events} extra={reconnected} />
    </main>
  );
}
