// Reading a join link: `/r/ROOM#token=JWT`. The token sits in the fragment so it never reaches server logs.
// The JWT payload is decoded here only to prefill and display things (name, identity); the server verifies it.

export interface JoinLink {
  room: string | null;
  token: string | null;
}

/** Room from a path of the form `/r/<room>` (URL-decoded), or null. */
export function roomFromPath(pathname: string): string | null {
  const m = /^\/r\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    const room = decodeURIComponent(m[1]);
    return room.length > 0 ? room : null;
  } catch {
    return null;
  }
}

/** Token from a fragment such as `#token=eyJ...` (other fragment parameters are ignored). */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token');
  return token && token.trim().length > 0 ? token.trim() : null;
}

export function parseJoinLink(loc: { pathname: string; hash: string }): JoinLink {
  return { room: roomFromPath(loc.pathname), token: tokenFromHash(loc.hash) };
}

/** The claims the client shows; never trusted for anything else. */
export interface TokenClaims {
  sub?: string;
  name?: string;
  room?: string;
  exp?: number;
  moderator?: boolean;
}

function base64UrlDecode(s: string): Uint8Array {
  let b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  while (b64.length % 4 !== 0) b64 += '=';
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Decode (not verify) a JWT's payload. Returns null if it is not a three-part JWT with a JSON object payload. */
export function decodeTokenPayload(token: string): TokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1].length === 0) return null;
  try {
    const json = new TextDecoder('utf-8', { fatal: true }).decode(base64UrlDecode(parts[1]));
    const v: unknown = JSON.parse(json);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const o = v as Record<string, unknown>;
    const claims: TokenClaims = {};
    if (typeof o.sub === 'string') claims.sub = o.sub;
    if (typeof o.name === 'string') claims.name = o.name;
    if (typeof o.room === 'string') claims.room = o.room;
    if (typeof o.exp === 'number') claims.exp = o.exp;
    if (typeof o.moderator === 'boolean') claims.moderator = o.moderator;
    return claims;
  } catch {
    return null;
  }
}

/** Display-name rule of the protocol: 1–64 characters after trimming. */
export function normalizeDisplayName(name: string): string | null {
  const t = name.trim();
  const len = [...t].length;
  return len >= 1 && len <= 64 ? t : null;
}
