// Single-key shortcuts of the meeting (documented in the settings panel; they can be switched off there, as WCAG
// 2.1.4 asks). They never fire while typing in a text field or with a modifier key held.

export type ShortcutAction = 'mic' | 'camera' | 'hand' | 'share' | 'chat' | 'people' | 'layout' | 'fullscreen' | 'help';

export const SHORTCUTS: ReadonlyArray<{ key: string; action: ShortcutAction }> = [
  { key: 'M', action: 'mic' },
  { key: 'V', action: 'camera' },
  { key: 'H', action: 'hand' },
  { key: 'S', action: 'share' },
  { key: 'C', action: 'chat' },
  { key: 'P', action: 'people' },
  { key: 'L', action: 'layout' },
  { key: 'F', action: 'fullscreen' },
  { key: '?', action: 'help' },
];

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
  repeat?: boolean;
  /** The focused element (event target). */
  target?: unknown;
}

/** Whether the key goes to a text field (or another control that uses letters itself). */
export function isTyping(target: unknown): boolean {
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'range'].includes((el.type ?? 'text').toLowerCase());
  return false;
}

/** The action a key press means, or null. */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || isTyping(e.target)) return null;
  const key = e.key.length === 1 ? e.key.toUpperCase() : e.key;
  return SHORTCUTS.find((s) => s.key === key)?.action ?? null;
}

const STORE_KEY = 'plenum.shortcuts';

export function shortcutsEnabled(): boolean {
  try {
    return localStorage.getItem(STORE_KEY) !== 'off';
  } catch {
    return true;
  }
}

export function setShortcutsEnabled(on: boolean): void {
  try {
    localStorage.setItem(STORE_KEY, on ? 'on' : 'off');
  } catch {
    // private mode: for this page only
  }
}
