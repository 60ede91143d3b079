import { useEffect, useRef } from 'react';
import { shortcutFor, type ShortcutAction } from '../shortcuts';

/** Calls `handler` for the meeting's single-key shortcuts (while `enabled`). */
export function useShortcuts(enabled: boolean, handler: (action: ShortcutAction) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      const action = shortcutFor(e);
      if (!action) return;
      e.preventDefault();
      latest.current(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}
