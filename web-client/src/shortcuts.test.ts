import { describe, expect, it } from 'vitest';
import { SHORTCUTS, isTyping, shortcutFor } from './shortcuts';
import { dictionaries } from './i18n';

describe('keyboard shortcuts', () => {
  it('map single keys, either case', () => {
    expect(shortcutFor({ key: 'm' })).toBe('mic');
    expect(shortcutFor({ key: 'M' })).toBe('mic');
    expect(shortcutFor({ key: 'v' })).toBe('camera');
    expect(shortcutFor({ key: 'h' })).toBe('hand');
    expect(shortcutFor({ key: '?' })).toBe('help');
    expect(shortcutFor({ key: 'x' })).toBeNull();
  });

  it('never fire with modifiers, on key repeat or while typing', () => {
    expect(shortcutFor({ key: 'm', ctrlKey: true })).toBeNull();
    expect(shortcutFor({ key: 'm', altKey: true })).toBeNull();
    expect(shortcutFor({ key: 'm', metaKey: true })).toBeNull();
    expect(shortcutFor({ key: 'm', repeat: true })).toBeNull();
    expect(shortcutFor({ key: 'm', target: { tagName: 'TEXTAREA' } })).toBeNull();
    expect(shortcutFor({ key: 'm', target: { tagName: 'INPUT', type: 'text' } })).toBeNull();
    expect(shortcutFor({ key: 'm', target: { tagName: 'INPUT', type: 'checkbox' } })).toBe('mic');
    expect(shortcutFor({ key: 'm', target: { tagName: 'BUTTON' } })).toBe('mic');
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTyping(null)).toBe(false);
  });

  it('are all documented in both languages', () => {
    for (const { action } of SHORTCUTS) {
      expect(dictionaries.de.shortcuts[action]).toBeTruthy();
      expect(dictionaries.en.shortcuts[action]).toBeTruthy();
    }
  });
});
