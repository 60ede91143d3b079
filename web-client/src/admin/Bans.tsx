// The people banned from a meeting, on its edit page: a moderator or admin lifts a ban so the person can join again.

import { useEffect, useState } from 'react';
import { api } from './api';
import { errorMessage } from './messages';
import type { PortalDict } from './strings';

export interface Ban {
  identity: string;
  name: string;
  banned_by_id: string;
  banned_by_name: string;
  /** Seconds since the epoch. */
  created_at: number;
}

export function MeetingBans({ t, meetingId }: { t: PortalDict; meetingId: string }) {
  const [bans, setBans] = useState<Ban[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ bans: Ban[] }>('GET', `/meetings/${meetingId}/bans`)
      .then((r) => setBans(r.bans))
      .catch((e) => setError(errorMessage(t, e)));
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [meetingId]);
  const lift = async (ban: Ban) => {
    if (!window.confirm(t.confirmLiftBan.replace('{name}', ban.name))) return;
    try {
      await api('DELETE', `/meetings/${meetingId}/bans/${encodeURIComponent(ban.identity)}`);
      setError(null);
      await load();
    } catch (e) {
      setError(errorMessage(t, e));
    }
  };
  return (
    <section data-testid="meeting-bans">
      <h2>{t.bans}</h2>
      {bans && bans.length === 0 && <p>{t.noBans}</p>}
      {bans && bans.length > 0 && (
        <ul>
          {bans.map((b) => (
            <li key={b.identity} data-testid="meeting-ban">
              {b.name} ({t.bannedBy} {b.banned_by_name}, {new Date(b.created_at * 1000).toLocaleString()}){' '}
              <button type="button" onClick={() => void lift(b)}>{t.liftBan}</button>
            </li>
          ))}
        </ul>
      )}
      {error && <p role="alert" className="warning">{error}</p>}
    </section>
  );
}
