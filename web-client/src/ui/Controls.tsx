import type { ReactNode } from 'react';
import { useT } from './i18nContext';
import { CameraIcon, ChatIcon, GridIcon, HandIcon, LeaveIcon, MicIcon, PeopleIcon, ScreenIcon, SettingsIcon, SpeakerViewIcon } from './Icons';

export type Panel = 'people' | 'chat' | 'settings';
export type LayoutMode = 'grid' | 'speaker';

export interface ControlsProps {
  muted: boolean;
  cameraOff: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
  sharing: boolean;
  canShare: boolean;
  handRaised: boolean;
  layout: LayoutMode;
  panel: Panel | null;
  unread: number;
  /** Shortcut keys are on: announce them (aria-keyshortcuts) and show them in tooltips. */
  keys: boolean;
  onToggleMic: () => void;
  onToggleCamera: () => void;
  onToggleShare: () => void;
  onToggleHand: () => void;
  onToggleLayout: () => void;
  onPanel: (p: Panel) => void;
  onLeave: () => void;
}

interface ToggleProps {
  testid?: string;
  label: string;
  pressed: boolean;
  keyName?: string;
  keys: boolean;
  disabled?: boolean;
  off?: boolean;
  onClick: () => void;
  children: ReactNode;
  extra?: ReactNode;
}

// Toggle buttons keep one label and tell their state with aria-pressed, so the accessible name always contains
// the visible text.
function Toggle(p: ToggleProps) {
  return (
    <button
      type="button"
      data-testid={p.testid}
      className={p.off ? 'toggle off' : 'toggle'}
      aria-label={p.label}
      aria-pressed={p.pressed}
      aria-keyshortcuts={p.keys && p.keyName ? p.keyName : undefined}
     
      title={p.keys && p.keyName ? `${p.label} (${p.keyName})` : p.label}
      disabled={p.disabled}
      onClick={p.onClick}
    >
      {p.children} <span className="label">{p.label}</span>
      {p.extra}
    </button>
  );
}

export function Controls(p: ControlsProps) {
  const t = useT();
  return (
    <nav className="controls" aria-label={t.controlsLabel}>
      <div className="controls-main">
        <Toggle testid="mic-toggle" label={t.muteMic} pressed={p.muted} off={p.muted} keyName="M" keys={p.keys} disabled={!p.hasAudio} onClick={p.onToggleMic}>
          <MicIcon off={p.muted} />
        </Toggle>
        <Toggle testid="camera-toggle" label={t.stopCamera} pressed={p.cameraOff} off={p.cameraOff} keyName="V" keys={p.keys} disabled={!p.hasVideo} onClick={p.onToggleCamera}>
          <CameraIcon off={p.cameraOff} />
        </Toggle>
        <Toggle testid="screen-share-toggle" label={t.shareScreen} pressed={p.sharing} keyName="S" keys={p.keys} disabled={!p.canShare} onClick={p.onToggleShare}>
          <ScreenIcon />
        </Toggle>
        <Toggle testid="raise-hand" label={t.raiseHand} pressed={p.handRaised} keyName="H" keys={p.keys} onClick={p.onToggleHand}>
          <HandIcon />
        </Toggle>
      </div>
      <div className="controls-side">
        <Toggle testid="layout-toggle" label={t.layoutSpeaker} pressed={p.layout === 'speaker'} keyName="L" keys={p.keys} onClick={p.onToggleLayout}>
          {p.layout === 'speaker' ? <SpeakerViewIcon /> : <GridIcon />}
        </Toggle>
        <Toggle testid="people-toggle" label={t.participantsTab} pressed={p.panel === 'people'} keyName="P" keys={p.keys} onClick={() => p.onPanel('people')}>
          <PeopleIcon />
        </Toggle>
        <Toggle
          testid="chat-toggle"
          label={t.chatTab}
          pressed={p.panel === 'chat'}
          keyName="C"
          keys={p.keys}
         
          onClick={() => p.onPanel('chat')}
          extra={
            p.unread > 0 && p.panel !== 'chat' ? (
              <span className="unread" data-testid="chat-unread">
                <span aria-hidden="true">{p.unread}</span>
                <span className="sr-only">{t.unread(p.unread)}</span>
              </span>
            ) : null
          }
        >
          <ChatIcon />
        </Toggle>
        <Toggle testid="settings-toggle" label={t.settingsTab} pressed={p.panel === 'settings'} keyName="?" keys={p.keys} onClick={() => p.onPanel('settings')}>
          <SettingsIcon />
        </Toggle>
        <button type="button" data-testid="leave-button" className="danger" aria-label={t.leaveMeeting} title={t.leaveMeeting} onClick={p.onLeave}>
          <LeaveIcon /> <span className="label">{t.leave}</span>
        </button>
      </div>
    </nav>
  );
}
