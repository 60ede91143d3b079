// The REST API client: JSON, the session cookie, and the double-submit CSRF header on writes.

export interface ApiErrorBody {
  code: string;
  message: string;
  fields?: Record<string, string>;
  opens_at?: string;
  starts_at?: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

/** The value of cookie `name` in `cookies` (document.cookie), or null. */
export function cookieValue(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') {
    // The CSRF cookie comes with any API response; get one first if this page has none yet.
    if (!cookieValue(document.cookie, 'plenum_csrf')) await fetch('/api/v1/me', { credentials: 'same-origin' });
    headers['X-CSRF-Token'] = cookieValue(document.cookie, 'plenum_csrf') ?? '';
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (json as { error?: ApiErrorBody } | null)?.error ?? { code: 'unknown', message: res.statusText };
    throw new ApiError(res.status, err);
  }
  return json as T;
}

/** GET /api/v1/auth/options: which logins the server offers. */
export interface LoginOptions {
  password: boolean;
  oidc: { name: string; login_url: string } | null;
}

/** The codes the OpenID Connect callback sends back to /login?oidc_error=CODE. */
export const OIDC_ERRORS = [
  'oidc_state',
  'oidc_denied',
  'oidc_unavailable',
  'oidc_failed',
  'oidc_no_role',
  'oidc_no_email',
  'oidc_email_taken',
  'oidc_disabled',
] as const;
export type OidcError = (typeof OIDC_ERRORS)[number];

/** The OIDC error code in a login page query string, if it is a known one. */
export function oidcError(search: string): OidcError | null {
  const code = new URLSearchParams(search).get('oidc_error');
  return (OIDC_ERRORS as readonly string[]).includes(code ?? '') ? (code as OidcError) : null;
}

/** Where the OIDC button leads: the login URL with the page to return to (only staff meeting links, else none). */
export function oidcLoginHref(loginUrl: string, next: string | null): string {
  return next && /^\/m\/[a-z0-9]+$/.test(next) ? `${loginUrl}?return_to=${encodeURIComponent(next)}` : loginUrl;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'staff';
  has_password: boolean;
  /** An admin disabled the account: no login, no sessions. */
  disabled: boolean;
  version: number;
}

export interface Meeting {
  id: string;
  title: string;
  description: string;
  start: string;
  end: string;
  time_zone: string;
  recurrence: { frequency: string; until?: string | null } | null;
  next_start_utc: string | null;
  owner: { id: string; name: string };
  moderators: { id: string; name: string; email: string }[];
  invitees: string[];
  guests_allowed: boolean;
  lobby: 'off' | 'guests' | 'everyone';
  join_opens_minutes: number;
  staff_link: string;
  guest_link: string | null;
  can_edit: boolean;
  /** Whether the links work now; `ended`: a moderator ended this occurrence for all. */
  status: 'open' | 'not_open' | 'ended' | 'over';
  ended_at: string | null;
  version: number;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_name: string;
}

/** The zones to offer: the server's list (Europe/Berlin first), and the meeting's own if it is not in it. */
export function zoneOptions(zones: string[], current: string): string[] {
  return zones.includes(current) ? zones : [current, ...zones];
}
