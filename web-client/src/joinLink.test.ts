import { describe, expect, it } from 'vitest';
import { decodeTokenPayload, normalizeDisplayName, parseJoinLink, roomFromPath, tokenFromHash } from './joinLink';

function b64url(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function jwt(payload: unknown): string {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(payload))}.c2lnbmF0dXJl`;
}

describe('join link', () => {
  it('reads the room from /r/<room>', () => {
    expect(roomFromPath('/r/team-weekly')).toBe('team-weekly');
    expect(roomFromPath('/r/team-weekly/')).toBe('team-weekly');
    expect(roomFromPath('/r/Sitzung%20%C3%84')).toBe('Sitzung Ä');
  });

  it('has no room elsewhere', () => {
    expect(roomFromPath('/')).toBeNull();
    expect(roomFromPath('/r/')).toBeNull();
    expect(roomFromPath('/r/a/b')).toBeNull();
    expect(roomFromPath('/x/room')).toBeNull();
    expect(roomFromPath('/r/%E0%A4%A')).toBeNull(); // broken escape
  });

  it('reads the token from the fragment', () => {
    expect(tokenFromHash('#token=abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHash('token=abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHash('#lang=en&token=a.b.c')).toBe('a.b.c');
    expect(tokenFromHash('')).toBeNull();
    expect(tokenFromHash('#token=')).toBeNull();
    expect(tokenFromHash('#other=1')).toBeNull();
  });

  it('parses a whole location', () => {
    expect(parseJoinLink({ pathname: '/r/e2e', hash: '#token=x.y.z' })).toEqual({ room: 'e2e', token: 'x.y.z' });
    expect(parseJoinLink({ pathname: '/', hash: '' })).toEqual({ room: null, token: null });
  });
});

describe('token payload', () => {
  it('decodes name, sub, room, exp (UTF-8, base64url)', () => {
    const token = jwt({ room: 'e2e', sub: 'erika', name: 'Erika Müller-Öztürk ß', exp: 1_900_000_000, moderator: true, grants: {} });
    expect(decodeTokenPayload(token)).toEqual({
      room: 'e2e',
      sub: 'erika',
      name: 'Erika Müller-Öztürk ß',
      exp: 1_900_000_000,
      moderator: true,
    });
  });

  it('decodes payloads whose base64url uses - and _', () => {
    // "??>" encodes to "Pz8-" in base64url; "???" to "Pz8_".
    const token = jwt({ name: '??>???', sub: 'x' });
    expect(token.split('.')[1]).toMatch(/[-_]/);
    expect(decodeTokenPayload(token)?.name).toBe('??>???');
  });

  it('ignores claims of the wrong type', () => {
    expect(decodeTokenPayload(jwt({ name: 42, sub: ['a'] }))).toEqual({});
  });

  it('rejects what is not a JWT with a JSON object payload', () => {
    expect(decodeTokenPayload('')).toBeNull();
    expect(decodeTokenPayload('abc')).toBeNull();
    expect(decodeTokenPayload('a..c')).toBeNull();
    expect(decodeTokenPayload(`a.${b64url('not json')}.c`)).toBeNull();
    expect(decodeTokenPayload(`a.${b64url('[1,2]')}.c`)).toBeNull();
    expect(decodeTokenPayload('a.!!!.c')).toBeNull();
  });
});

describe('display name', () => {
  it('trims and accepts 1..64 characters', () => {
    expect(normalizeDisplayName('  Max  ')).toBe('Max');
    expect(normalizeDisplayName('x'.repeat(64))).toBe('x'.repeat(64));
    expect(normalizeDisplayName('ä'.repeat(64))).toBe('ä'.repeat(64));
  });
  it('rejects empty and too long names', () => {
    expect(normalizeDisplayName('   ')).toBeNull();
    expect(normalizeDisplayName('x'.repeat(65))).toBeNull();
  });
});
