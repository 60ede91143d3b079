import type { LobbyEntry } from '../protocol';
import { useT } from './i18nContext';

/** The waiting screen of someone in the lobby. */
export function LobbyScreen({ moderatorsPresent, onLeave }: { moderatorsPresent: boolean; onLeave: () => void }) {
  const t = useT();
  return (
    <main className="card" aria-labelledby="lobby-title" data-testid="lobby-screen">
      <h1 id="lobby-title">{t.lobbyTitle}</h1>
      <p role="status" data-testid="lobby-status" data-moderators={moderatorsPresent ? 'yes' : 'no'}>
        {moderatorsPresent ? t.lobbyWaiting : t.lobbyNoModerator}
      </p>
      <button type="button" onClick={onLeave}>
        {t.lobbyLeave}
      </button>
    </main>
  );
}

/** Moderators: who waits in the lobby, to admit or deny (a visual cue, no sound). */
export function LobbyPanel({ waiting, onAnswer }: { waiting: readonly LobbyEntry[]; onAnswer: (sid: string | null, admit: boolean) => void }) {
  const t = useT();
  if (waiting.length === 0) return null;
  return (
    <section className="lobby-panel notice" role="status" aria-labelledby="lobby-panel-title" data-testid="lobby-panel">
      <h2 id="lobby-panel-title">{t.lobbyPanelTitle(waiting.length)}</h2>
      <ul>
        {waiting.map((w) => (
          <li key={w.sid} data-testid="lobby-entry" data-sid={w.sid}>
            <span className="p-name">{w.name}</span>
            {w.guest && <span className="tag">{t.guestTag}</span>}
            <button type="button" className="primary" data-testid="lobby-admit" onClick={() => onAnswer(w.sid, true)}>
              {t.admit}
            </button>
            <button type="button" data-testid="lobby-deny" onClick={() => onAnswer(w.sid, false)}>
              {t.deny}
            </button>
          </li>
        ))}
      </ul>
      {waiting.length > 1 && (
        <button type="button" data-testid="lobby-admit-all" onClick={() => onAnswer(null, true)}>
          {t.admitAll}
        </button>
      )}
    </section>
  );
}
