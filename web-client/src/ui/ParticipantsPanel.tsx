import type { ModerateAction, Participant } from '../protocol';
import type { RosterEntry } from '../roster';
import { useT } from './i18nContext';
import { CameraIcon, HandIcon, MicIcon } from './Icons';

export interface ParticipantsPanelProps {
  self: Participant | null;
  others: readonly RosterEntry[];
  hands: readonly string[];
  /** The own join token allows moderating (the server checks it anyway). */
  moderator: boolean;
  onLowerHand: (sid: string) => void;
  onLowerOwnHand: () => void;
  /** Moderators: act on a participant (`sid`) or the room. */
  onModerate?: (action: ModerateAction, sid?: string, ban?: boolean) => void;
  locked?: boolean;
}

/** A moderator's buttons for one participant. */
function ModeratorActions({ p, onModerate }: { p: Participant; onModerate: (action: ModerateAction, sid?: string, ban?: boolean) => void }) {
  const t = useT();
  const act = (action: ModerateAction, ban?: boolean) => () => onModerate(action, p.sid, ban);
  return (
    <span className="mod-actions" role="group" aria-label={t.modActionsFor(p.name)}>
      {p.muted ? (
        <button type="button" data-testid="mod-ask-unmute" onClick={act('ask_unmute')}>{t.modAskUnmute}</button>
      ) : (
        <button type="button" data-testid="mod-mute" onClick={act('mute')}>{t.modMute}</button>
      )}
      {!p.camera_off && <button type="button" data-testid="mod-stop-video" onClick={act('stop_video')}>{t.modStopVideo}</button>}
      <button type="button" data-testid="mod-stop-screen" onClick={act('stop_screen')}>{t.modStopScreen}</button>
      <button type="button" data-testid="mod-remove" onClick={act('remove')}>{t.modRemove}</button>
      <button type="button" data-testid="mod-ban" onClick={act('remove', true)}>{t.modBan}</button>
    </span>
  );
}

function State({ p }: { p: Participant }) {
  const t = useT();
  return (
    <span className="p-state">
      <span title={p.muted ? t.mutedBadge : t.micOn}>
        <MicIcon off={p.muted} size={16} />
        <span className="sr-only">{p.muted ? t.mutedBadge : t.micOn}</span>
      </span>
      <span title={p.camera_off ? t.cameraOffBadge : t.cameraOn}>
        <CameraIcon off={p.camera_off} size={16} />
        <span className="sr-only">{p.camera_off ? t.cameraOffBadge : t.cameraOn}</span>
      </span>
    </span>
  );
}

/** Who is here (with microphone, camera and hand), and the raised hands in order. */
export function ParticipantsPanel({ self, others, hands, moderator, onLowerHand, onLowerOwnHand, onModerate, locked }: ParticipantsPanelProps) {
  const t = useT();
  const everyone = self ? [self, ...others] : [...others];
  const bySid = new Map(everyone.map((p) => [p.sid, p]));
  const raised = hands.map((sid) => bySid.get(sid)).filter((p): p is Participant => !!p);
  const nameOf = (p: Participant) => (p.sid === self?.sid ? `${p.name} (${t.you})` : p.name);
  return (
    <div className="people">
      <section aria-labelledby="hands-title">
        <h3 id="hands-title">{t.handsTitle}</h3>
        {raised.length === 0 ? (
          <p className="muted-text">{t.noHands}</p>
        ) : (
          <ol className="hand-queue" data-testid="hand-queue">
            {raised.map((p) => (
              <li key={p.sid} data-testid="hand-entry" data-sid={p.sid}>
                <HandIcon size={16} /> <span className="p-name">{nameOf(p)}</span>
                {p.sid === self?.sid ? (
                  <button type="button" onClick={onLowerOwnHand}>
                    {t.lowerHand}
                  </button>
                ) : (
                  moderator && (
                    <button type="button" data-testid="lower-hand" aria-label={t.lowerHandOf(p.name)} onClick={() => onLowerHand(p.sid)}>
                      {t.lowerHand}
                    </button>
                  )
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="people-title">
        <h3 id="people-title">{t.participantsCount(everyone.length)}</h3>
        {moderator && onModerate && (
          <div className="mod-room" role="group">
            <button type="button" data-testid="mod-mute-all" onClick={() => onModerate('mute_all')}>{t.modMuteAll}</button>
            <button type="button" data-testid="mod-lock" aria-pressed={!!locked} onClick={() => onModerate(locked ? 'unlock' : 'lock')}>
              {locked ? t.modUnlock : t.modLock}
            </button>
            <button
              type="button"
              data-testid="mod-end"
              onClick={() => {
                if (typeof window === 'undefined' || window.confirm(t.modEndConfirm)) onModerate('end');
              }}
            >
              {t.modEnd}
            </button>
          </div>
        )}
        <ul className="people-list">
          {everyone.map((p) => (
            <li key={p.sid} data-testid="participant-entry" data-sid={p.sid}>
              <span className="p-name">{nameOf(p)}</span>
              {p.moderator && <span className="tag">{t.moderatorBadge}</span>}
              {hands.includes(p.sid) && (
                <span title={t.handBadge(hands.indexOf(p.sid) + 1)}>
                  <HandIcon size={16} />
                  <span className="sr-only">{t.handBadge(hands.indexOf(p.sid) + 1)}</span>
                </span>
              )}
              <State p={p} />
              {moderator && onModerate && p.sid !== self?.sid && <ModeratorActions p={p} onModerate={onModerate} />}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
