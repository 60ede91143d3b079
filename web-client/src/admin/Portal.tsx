// Login, my meetings (upcoming / past), create and edit, links and invitation, users and audit log (admins), and
// the staff and guest links that lead into a meeting. Chosen by path in main.tsx; the meeting UI is untouched.

import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { pickLanguage, type Lang } from '../i18n';
import { api, ApiError, oidcError, oidcLoginHref, zoneOptions, type AuditRecord, type LoginOptions, type Meeting, type User } from './api';
import { portalStrings, type PortalDict } from './strings';
import { UsersPage } from './Users';
import { MeetingBans } from './Bans';
import { errorMessage } from './messages';

type Nav = (path: string) => void;

/** Which portal page a path is, or null for the meeting app. */
export function portalRoute(pathname: string): string | null {
  if (pathname === '/' || pathname === '/login' || pathname === '/meetings') return pathname === '/' ? '/meetings' : pathname;
  if (pathname === '/admin/users' || pathname === '/admin/audit') return pathname;
  if (/^\/m\/[a-z0-9]+\/?$/.test(pathname) || /^\/g\/[a-z0-9]+\/[a-z0-9]+\/?$/.test(pathname)) return pathname;
  return null;
}

function useLang(): [Lang, (l: Lang) => void] {
  const [lang, setLang] = useState<Lang>(() => {
    let stored: string | null = null;
    try {
      stored = localStorage.getItem('plenum.lang');
    } catch {
      // private mode
    }
    return pickLanguage(navigator.language, stored);
  });
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return [
    lang,
    (l) => {
      setLang(l);
      try {
        localStorage.setItem('plenum.lang', l);
      } catch {
        // private mode
      }
    },
  ];
}

export function Portal({ initialPath }: { initialPath: string }) {
  const [path, setPath] = useState(initialPath);
  const [lang, setLang] = useLang();
  const t = portalStrings[lang];
  const nav: Nav = (p) => {
    window.history.pushState(null, '', p);
    setPath(portalRoute(p.split('?')[0]) ?? p);
  };
  useEffect(() => {
    const onPop = () => setPath(portalRoute(window.location.pathname) ?? '/meetings');
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const langSwitch = (
    <select aria-label="Sprache / Language" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
      <option value="de">Deutsch</option>
      <option value="en">English</option>
    </select>
  );
  let page: ReactNode;
  const staff = /^\/m\/([a-z0-9]+)/.exec(path);
  const guest = /^\/g\/([a-z0-9]+)\/([a-z0-9]+)/.exec(path);
  if (path === '/login') page = <LoginPage t={t} nav={nav} />;
  else if (staff) page = <StaffJoin t={t} id={staff[1]} />;
  else if (guest) page = <GuestJoin t={t} id={guest[1]} secret={guest[2]} />;
  else page = <Authenticated t={t} nav={nav} path={path} />;
  return (
    <main className="portal">
      <header className="portal-header">
        <strong>Plenum</strong>
        {langSwitch}
      </header>
      {page}
    </main>
  );
}

function LoginPage({ t, nav }: { t: PortalDict; nav: Nav }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [options, setOptions] = useState<LoginOptions | null>(null);
  const oidcCode = oidcError(window.location.search);
  const [error, setError] = useState<string | null>(oidcCode ? t[oidcCode] : null);
  useEffect(() => {
    api<LoginOptions>('GET', '/auth/options')
      .then(setOptions)
      .catch(() => setOptions(null));
  }, []);
  const next = new URLSearchParams(window.location.search).get('next');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('POST', '/login', { email, password });
      if (next && /^\/m\/[a-z0-9]+$/.test(next)) window.location.assign(next);
      else nav('/meetings');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t.loginFailed : errorMessage(t, err));
    }
  };
  return (
    <form className="portal-card" onSubmit={submit}>
      <h1>{t.login}</h1>
      {options?.oidc && (
        <>
          <a className="button-link" href={oidcLoginHref(options.oidc.login_url, next)} data-testid="login-oidc">
            {t.loginWith} {options.oidc.name}
          </a>
          <p className="portal-or">{t.or}</p>
        </>
      )}
      <label>
        {t.email}
        <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} data-testid="login-email" />
      </label>
      <label>
        {t.password}
        <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} data-testid="login-password" />
      </label>
      {error && <p role="alert" className="warning">{error}</p>}
      <button type="submit" className="primary" data-testid="login-submit">{t.login}</button>
    </form>
  );
}

function Authenticated({ t, nav, path }: { t: PortalDict; nav: Nav; path: string }) {
  const [me, setMe] = useState<User | null>(null);
  useEffect(() => {
    api<User>('GET', '/me')
      .then(setMe)
      .catch(() => nav('/login'));
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  if (!me) return null;
  const logout = async () => {
    await api('POST', '/logout').catch(() => undefined);
    nav('/login');
  };
  return (
    <>
      <nav className="portal-nav">
        <button type="button" onClick={() => nav('/meetings')}>{t.myMeetings}</button>
        {me.role === 'admin' && <button type="button" onClick={() => nav('/admin/users')} data-testid="nav-users">{t.users}</button>}
        {me.role === 'admin' && <button type="button" onClick={() => nav('/admin/audit')} data-testid="nav-audit">{t.audit}</button>}
        <span>{me.name}</span>
        <button type="button" onClick={logout}>{t.logout}</button>
      </nav>
      {path === '/admin/users' && me.role === 'admin' ? (
        <UsersPage t={t} me={me} />
      ) : path === '/admin/audit' && me.role === 'admin' ? (
        <AuditPage t={t} />
      ) : (
        <MeetingsPage t={t} />
      )}
    </>
  );
}

function CopyField({ t, label, value, testid }: { t: PortalDict; label: string; value: string; testid: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // no clipboard permission: the field stays selectable
    }
  };
  return (
    <div className="copy-field">
      <label>
        {label}
        <input readOnly value={value} data-testid={testid} onFocus={(e) => e.target.select()} />
      </label>
      <button type="button" onClick={copy} data-testid={`copy-${testid}`}>{copied ? t.copied : t.copy}</button>
    </div>
  );
}

function MeetingsPage({ t }: { t: PortalDict }) {
  const [scope, setScope] = useState<'upcoming' | 'past'>('upcoming');
  const [meetings, setMeetings] = useState<Meeting[]>([]);
  const [editing, setEditing] = useState<Meeting | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ meetings: Meeting[] }>('GET', `/meetings?scope=${scope}`)
      .then((r) => setMeetings(r.meetings))
      .catch((e) => setError(errorMessage(t, e)));
  useEffect(() => {
    void load();
  }, [scope]); // eslint-disable-line react-hooks/exhaustive-deps
  if (editing) {
    return (
      <MeetingForm
        t={t}
        meeting={editing === 'new' ? null : editing}
        onDone={() => {
          setEditing(null);
          void load();
        }}
      />
    );
  }
  const remove = async (m: Meeting) => {
    if (!window.confirm(t.confirmDelete)) return;
    await api('DELETE', `/meetings/${m.id}`).catch((e) => setError(errorMessage(t, e)));
    void load();
  };
  return (
    <section>
      <h1>{t.myMeetings}</h1>
      <div role="tablist">
        <button type="button" role="tab" aria-selected={scope === 'upcoming'} onClick={() => setScope('upcoming')}>{t.upcoming}</button>
        <button type="button" role="tab" aria-selected={scope === 'past'} onClick={() => setScope('past')}>{t.past}</button>
        <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="new-meeting">{t.newMeeting}</button>
      </div>
      {error && <p role="alert" className="warning">{error}</p>}
      {meetings.length === 0 && <p>{t.none}</p>}
      <ul className="meeting-list">
        {meetings.map((m) => (
          <li key={m.id} data-testid="meeting-row" data-meeting-id={m.id}>
            <h2>{m.title}</h2>
            <p>
              {m.start.replace('T', ' ')} – {m.end.slice(11)} ({m.time_zone}){m.recurrence ? ` · ${t.weekly}` : ''}
              {m.status === 'ended' && <span data-testid="meeting-status"> · {t.statusEnded}</span>}
            </p>
            <CopyField t={t} label={t.staffLink} value={m.staff_link} testid="staff-link" />
            {m.guest_link && <CopyField t={t} label={t.guestLink} value={m.guest_link} testid="guest-link" />}
            <a href={`/api/v1/meetings/${m.id}/invite.ics`} download data-testid="download-ics">{t.invitation}</a>{' '}
            <a href={`/m/${m.id}`}>{t.join}</a>{' '}
            {m.can_edit && <button type="button" onClick={() => setEditing(m)}>{t.edit}</button>}
            {m.can_edit && <button type="button" onClick={() => remove(m)}>{t.delete}</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function localInput(offsetMinutes: number): string {
  const d = new Date(Date.now() + offsetMinutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function MeetingForm({ t, meeting, onDone }: { t: PortalDict; meeting: Meeting | null; onDone: () => void }) {
  const [title, setTitle] = useState(meeting?.title ?? '');
  const [description, setDescription] = useState(meeting?.description ?? '');
  const [start, setStart] = useState(meeting?.start ?? localInput(60));
  const [end, setEnd] = useState(meeting?.end ?? localInput(120));
  const [timeZone, setTimeZone] = useState(meeting?.time_zone ?? 'Europe/Berlin');
  const [weekly, setWeekly] = useState(meeting?.recurrence != null);
  const [until, setUntil] = useState(meeting?.recurrence?.until ?? '');
  const [moderators, setModerators] = useState<string[]>(meeting?.moderators.map((m) => m.id) ?? []);
  const [invitees, setInvitees] = useState(meeting?.invitees.join(', ') ?? '');
  const [guestsAllowed, setGuestsAllowed] = useState(meeting?.guests_allowed ?? true);
  const [lobby, setLobby] = useState(meeting?.lobby ?? 'guests');
  const [people, setPeople] = useState<{ id: string; name: string; email: string }[]>([]);
  const [zones, setZones] = useState<string[]>([]);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ id: string; name: string; email: string }[]>('GET', '/directory').then(setPeople).catch(() => undefined);
    api<string[]>('GET', '/time-zones').then(setZones).catch(() => undefined);
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = {
      title,
      description,
      start,
      end,
      time_zone: timeZone,
      recurrence: weekly ? { frequency: 'weekly', until: until || null } : null,
      moderators,
      invitees: invitees.split(',').map((s) => s.trim()).filter(Boolean),
      guests_allowed: guestsAllowed,
      lobby,
      version: meeting?.version,
    };
    try {
      if (meeting) await api('PUT', `/meetings/${meeting.id}`, body);
      else await api('POST', '/meetings', body);
      onDone();
    } catch (err) {
      setFields(err instanceof ApiError ? (err.body.fields ?? {}) : {});
      setError(errorMessage(t, err));
    }
  };
  const fieldError = (name: string) => fields[name] && <span className="warning" role="alert">{fields[name]}</span>;
  return (
    <form className="portal-card" onSubmit={submit}>
      <h1>{meeting ? t.editMeeting : t.newMeeting}</h1>
      <label>
        {t.title}
        <input value={title} onChange={(e) => setTitle(e.target.value)} data-testid="meeting-title" />
      </label>
      {fieldError('title')}
      <label>
        {t.description}
        <textarea value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        {t.start}
        <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} data-testid="meeting-start" />
      </label>
      {fieldError('start')}
      <label>
        {t.end}
        <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} data-testid="meeting-end" />
      </label>
      {fieldError('end')}
      <label>
        {t.timeZone}
        <select value={timeZone} onChange={(e) => setTimeZone(e.target.value)} data-testid="meeting-time-zone">
          {zoneOptions(zones, timeZone).map((z) => (
            <option key={z} value={z}>{z.replace(/_/g, ' ')}</option>
          ))}
        </select>
      </label>
      {fieldError('time_zone')}
      <label>
        <input type="checkbox" checked={weekly} onChange={(e) => setWeekly(e.target.checked)} /> {t.weekly}
      </label>
      {weekly && (
        <label>
          {t.until}
          <input type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
        </label>
      )}
      {fieldError('recurrence.until')}
      <label>
        {t.moderators}
        <select multiple value={moderators} onChange={(e) => setModerators([...e.target.selectedOptions].map((o) => o.value))}>
          {people.map((p) => (
            <option key={p.id} value={p.id}>{`${p.name} <${p.email}>`}</option>
          ))}
        </select>
      </label>
      {fieldError('moderators')}
      <label>
        {t.invitees}
        <input value={invitees} onChange={(e) => setInvitees(e.target.value)} />
      </label>
      {fieldError('invitees')}
      <label>
        <input type="checkbox" checked={guestsAllowed} onChange={(e) => setGuestsAllowed(e.target.checked)} /> {t.guestsAllowed}
      </label>
      <label>
        {t.lobby}
        <select value={lobby} onChange={(e) => setLobby(e.target.value as Meeting['lobby'])}>
          <option value="off">{t.lobbyOff}</option>
          <option value="guests">{t.lobbyGuests}</option>
          <option value="everyone">{t.lobbyEveryone}</option>
        </select>
      </label>
      {error && <p role="alert" className="warning">{error}</p>}
      <button type="submit" className="primary" data-testid="meeting-save">{t.save}</button>
      <button type="button" onClick={onDone}>{t.cancel}</button>
      {meeting && <MeetingBans t={t} meetingId={meeting.id} />}
    </form>
  );
}

function AuditPage({ t }: { t: PortalDict }) {
  const [entries, setEntries] = useState<AuditRecord[]>([]);
  useEffect(() => {
    api<AuditRecord[]>('GET', '/audit?limit=200').then(setEntries).catch(() => undefined);
  }, []);
  return (
    <section>
      <h1>{t.audit}</h1>
      <table>
        <thead>
          <tr><th>{t.when}</th><th>{t.who}</th><th>{t.what}</th><th>{t.whom}</th></tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} data-testid="audit-row">
              <td>{new Date(e.at).toLocaleString()}</td><td>{e.actor_name}</td><td>{e.action}</td>
              <td>{`${e.target_type}: ${e.target_name}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface JoinGrant {
  path: string;
}

function StaffJoin({ t, id }: { t: PortalDict; id: string }) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<JoinGrant>('POST', `/join/${id}`)
      .then((g) => window.location.assign(g.path))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) window.location.assign(`/login?next=/m/${id}`);
        else setError(errorMessage(t, e));
      });
  }, [id]); // eslint-disable-line react-hooks/exhaustive-deps
  return <section className="portal-card">{error ? <p role="alert" data-testid="join-problem">{error}</p> : <p>…</p>}</section>;
}

interface GuestInfo {
  title: string;
  start: string;
  end: string;
  time_zone: string;
  status: string;
  opens_at: string | null;
}

function GuestJoin({ t, id, secret }: { t: PortalDict; id: string; secret: string }) {
  const [info, setInfo] = useState<GuestInfo | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<GuestInfo>('GET', `/guest/${id}/${secret}`)
      .then(setInfo)
      .catch((e) => setError(errorMessage(t, e)));
  }, [id, secret]); // eslint-disable-line react-hooks/exhaustive-deps
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const g = await api<JoinGrant>('POST', `/guest/${id}/${secret}`, { name });
      window.location.assign(g.path);
    } catch (err) {
      setError(err instanceof ApiError && err.body.fields?.name ? err.body.fields.name : errorMessage(t, err));
    }
  };
  return (
    <form className="portal-card" onSubmit={submit}>
      <h1>{t.guestTitle}</h1>
      {info && (
        <p>
          <strong data-testid="guest-meeting-title">{info.title}</strong>
          <br />
          {info.start.replace('T', ' ')} – {info.end.slice(11)} ({info.time_zone})
        </p>
      )}
      {info?.status === 'not_open' && <p role="status">{`${t.notOpen} ${new Date(info.opens_at ?? '').toLocaleString()}.`}</p>}
      {info?.status === 'over' && <p role="status">{t.over}</p>}
      {info?.status === 'ended' && <p role="status">{t.ended}</p>}
      {error && <p role="alert" className="warning" data-testid="join-problem">{error}</p>}
      {info && (
        <>
          <label>
            {t.yourName}
            <input value={name} maxLength={64} required onChange={(e) => setName(e.target.value)} data-testid="guest-name" />
          </label>
          <button type="submit" className="primary" data-testid="guest-continue">{t.continue}</button>
        </>
      )}
    </form>
  );
}
