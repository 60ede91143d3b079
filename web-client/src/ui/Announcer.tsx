import { useEffect, useRef, useState } from 'react';
import type { Dict } from '../i18n';
import type { RoomEvent } from '../roomState';
import { useT } from './i18nContext';

const TOAST_MS = 6000;
const LIVE_KEEP = 3;

export function eventText(t: Dict, e: RoomEvent): string {
  switch (e.kind) {
    case 'joined':
      return t.announce.joined(e.name);
    case 'left':
      return t.announce.left(e.name);
    case 'chat':
      return t.announce.chat(e.name, e.text ?? '');
    case 'hand_raised':
      return t.announce.handRaised(e.name);
    case 'hand_lowered':
      if (e.byName && e.self) return t.announce.yourHandLoweredBy(e.byName);
      if (e.byName) return t.announce.handLoweredBy(e.name, e.byName);
      return t.announce.handLowered(e.name);
  }
}

interface Line {
  id: number;
  text: string;
  at: number;
}

/**
 * Says what happens in the room: a polite live region for screen readers (join/leave, chat, hands, reconnects)
 * and short visible notices for join/leave and hands.
 */
export function Announcer({ events, extra }: { events: readonly RoomEvent[]; extra: { id: number; text: string } | null }) {
  const t = useT();
  const seen = useRef(events.length ? events[events.length - 1].id : 0);
  const extraSeen = useRef(extra?.id ?? 0);
  const [live, setLive] = useState<Line[]>([]);
  const [toasts, setToasts] = useState<Line[]>([]);

  useEffect(() => {
    const fresh = events.filter((e) => e.id > seen.current);
    if (fresh.length === 0) return;
    seen.current = fresh[fresh.length - 1].id;
    const now = Date.now();
    const lines = fresh.map((e) => ({ id: e.id, text: eventText(t, e), at: now }));
    setLive((l) => [...l, ...lines].slice(-LIVE_KEEP));
    const visible = fresh.filter((e) => e.kind !== 'chat').map((e) => ({ id: e.id, text: eventText(t, e), at: now }));
    if (visible.length) setToasts((old) => [...old, ...visible].slice(-4));
  }, [events, t]);

  useEffect(() => {
    if (!extra || extra.id === extraSeen.current) return;
    extraSeen.current = extra.id;
    setLive((l) => [...l, { id: -extra.id, text: extra.text, at: Date.now() }].slice(-LIVE_KEEP));
  }, [extra]);

  useEffect(() => {
    if (toasts.length === 0) return;
    const timer = setTimeout(() => setToasts((old) => old.filter((x) => Date.now() - x.at < TOAST_MS)), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toasts]);

  return (
    <>
      <div className="sr-only" role="status" aria-live="polite" aria-atomic="false" data-testid="announcer">
        {live.map((l) => (
          <p key={l.id}>{l.text}</p>
        ))}
      </div>
      {toasts.length > 0 && (
        <ul className="toasts" aria-hidden="true" data-testid="toasts">
          {toasts.map((x) => (
            <li key={x.id}>{x.text}</li>
          ))}
        </ul>
      )}
    </>
  );
}
