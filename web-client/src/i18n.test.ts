import { describe, expect, it } from 'vitest';
import { dictionaries, errorText, pickLanguage } from './i18n';

describe('language selection', () => {
  it('is German by default', () => {
    expect(pickLanguage(undefined)).toBe('de');
    expect(pickLanguage('')).toBe('de');
    expect(pickLanguage('de-DE')).toBe('de');
    expect(pickLanguage('fr-FR')).toBe('de');
  });
  it('is English when the browser language starts with "en"', () => {
    expect(pickLanguage('en')).toBe('en');
    expect(pickLanguage('en-GB')).toBe('en');
    expect(pickLanguage('EN-us')).toBe('en');
  });
  it('prefers a stored choice, ignoring invalid ones', () => {
    expect(pickLanguage('en-US', 'de')).toBe('de');
    expect(pickLanguage('de-DE', 'en')).toBe('en');
    expect(pickLanguage('en-US', 'xx')).toBe('en');
  });
});

function shape(v: unknown): unknown {
  if (typeof v === 'function') return 'function';
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  }
  return typeof v;
}

describe('dictionaries', () => {
  it('have the same keys in German and English', () => {
    expect(shape(dictionaries.en)).toEqual(shape(dictionaries.de));
  });
  it('have no empty strings and differ between the languages', () => {
    const de = dictionaries.de;
    const en = dictionaries.en;
    for (const [k, v] of Object.entries(de)) if (typeof v === 'string') expect(v.length, k).toBeGreaterThan(0);
    expect(de.joinButton).not.toBe(en.joinButton);
    expect(de.participantsCount(3)).toBe('3 Personen');
    expect(en.participantsCount(1)).toBe('1 person');
  });
  it('translate every fatal server error code, and fall back for unknown ones', () => {
    for (const code of ['token_expired', 'token_invalid', 'token_wrong_room', 'protocol_unsupported', 'join_timeout', 'removed', 'banned', 'meeting_ended', 'meeting_deleted']) {
      expect(errorText(dictionaries.de, code)).toBe(dictionaries.de.errors[code as keyof typeof dictionaries.de.errors]);
      expect(errorText(dictionaries.de, code)).not.toBe(dictionaries.de.errors.unknown);
    }
    expect(errorText(dictionaries.en, 'something_new')).toBe(dictionaries.en.errors.unknown);
    expect(errorText(dictionaries.en, 'toString')).toBe(dictionaries.en.errors.unknown);
  });
});
