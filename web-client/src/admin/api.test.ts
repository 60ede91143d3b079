import { describe, expect, it } from 'vitest';
import { cookieValue, zoneOptions } from './api';
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

describe('OpenID Connect login', () => {
  it('knows the callback error codes and has strings for each in both languages', async () => {
    const { OIDC_ERRORS, oidcError } = await import('./api');
    expect(oidcError('?oidc_error=oidc_no_role')).toBe('oidc_no_role');
    expect(oidcError('?oidc_error=<script>')).toBeNull();
    expect(oidcError('')).toBeNull();
    for (const code of OIDC_ERRORS) {
      expect(portalStrings.de[code]).toBeTruthy();
      expect(portalStrings.en[code]).toBeTruthy();
    }
  });

  it('returns only to staff meeting links', async () => {
    const { oidcLoginHref } = await import('./api');
    const url = '/api/v1/auth/oidc/login';
    expect(oidcLoginHref(url, '/m/abc123')).toBe('/api/v1/auth/oidc/login?return_to=%2Fm%2Fabc123');
    expect(oidcLoginHref(url, '//evil.example')).toBe(url);
    expect(oidcLoginHref(url, null)).toBe(url);
  });
});

describe('time zone choices', () => {
  it('offer the server list, plus the meeting\'s own zone when the list lacks it', () => {
    expect(zoneOptions(['Europe/Berlin', 'UTC'], 'UTC')).toEqual(['Europe/Berlin', 'UTC']);
    expect(zoneOptions(['Europe/Berlin', 'UTC'], 'US/Eastern')).toEqual(['US/Eastern', 'Europe/Berlin', 'UTC']);
    expect(zoneOptions([], 'Europe/Berlin')).toEqual(['Europe/Berlin']);
  });
});
