import { describe, expect, it } from 'vitest';
import { cookieValue } from './api';
import { portalStrings } from './strings';

describe('cookieValue', () => {
  it('finds a cookie among others', () => {
    expect(cookieValue('a=1; plenum_csrf=abc=def; b=2', 'plenum_csrf')).toBe('abc=def');
    expect(cookieValue('a=1', 'plenum_csrf')).toBeNull();
    expect(cookieValue('', 'plenum_csrf')).toBeNull();
  });
});

describe('portal strings', () => {
  it('German and English have the same keys', () => {
    expect(Object.keys(portalStrings.en).sort()).toEqual(Object.keys(portalStrings.de).sort());
  });
});
