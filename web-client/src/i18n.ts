// All visible strings of the client, in German (default) and English (strings/de.ts, strings/en.ts).

import { de, type Dict } from './strings/de';
import { en } from './strings/en';

export type { Dict };
export type Lang = 'de' | 'en';
export const LANGS: readonly Lang[] = ['de', 'en'];

export const dictionaries: Record<Lang, Dict> = { de, en };

export type ErrorKey = keyof Dict['errors'];

/** German by default; English when the browser's language starts with "en". A stored choice wins. */
export function pickLanguage(navigatorLanguage: string | undefined | null, stored?: string | null): Lang {
  if (stored === 'de' || stored === 'en') return stored;
  if (navigatorLanguage && navigatorLanguage.toLowerCase().startsWith('en')) return 'en';
  return 'de';
}

/** A readable message for an error code from the server (or a client-side one); unknown codes fall back. */
export function errorText(dict: Dict, code: string): string {
  return Object.prototype.hasOwnProperty.call(dict.errors, code) ? dict.errors[code as ErrorKey] : dict.errors.unknown;
}
