import { useCallback, useEffect, useMemo, useState } from 'react';
import { dictionaries, pickLanguage, type Lang } from '../i18n';
import { decodeTokenPayload, parseJoinLink } from '../joinLink';
import { LocalMediaController } from '../localMedia';
import { MeetingSession } from '../session';
import { signalingUrl } from '../signaling';
import { setDebugSession } from '../debug';
import { I18nContext } from './i18nContext';
import { PreJoin } from './PreJoin';
import { Meeting } from './Meeting';
import { NeedLinkScreen } from './Screens';

const LANG_KEY = 'plenum.lang';

function storedLang(): string | null {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

export function App() {
  const link = useMemo(() => parseJoinLink(window.location), []);
  const claims = useMemo(() => (link.token ? decodeTokenPayload(link.token) : null), [link.token]);
  const [lang, setLang] = useState<Lang>(() => pickLanguage(navigator.language, storedLang()));
  const [name, setName] = useState(claims?.name ?? '');
  const [local, setLocal] = useState<LocalMediaController | null>(null);
  const [session, setSession] = useState<MeetingSession | null>(null);
  const [sessionCount, setSessionCount] = useState(0);
  /** Bumped to get the devices again (rejoin after leaving). */
  const [mediaEpoch, setMediaEpoch] = useState(0);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const chooseLang = (l: Lang) => {
    setLang(l);
    try {
      localStorage.setItem(LANG_KEY, l);
    } catch {
      // private mode: the choice lasts for this page only
    }
  };

  // Camera and microphone for the pre-join screen, then for the meeting.
  useEffect(() => {
    if (!link.token || !link.room) return;
    const c = new LocalMediaController();
    setLocal(c);
    void c.start();
    return () => c.stop();
  }, [link.token, link.room, mediaEpoch]);

  const startSession = useCallback(
    (displayName: string) => {
      if (!link.room || !link.token || !local) return;
      const st = local.getSnapshot();
      const listenOnly = !st.mic && !st.camera && !st.cameraOff;
      const s = new MeetingSession({
        wsUrl: signalingUrl(window.location),
        room: link.room,
        token: link.token,
        name: displayName,
        local: listenOnly ? null : local,
      });
      setDebugSession(s);
      setSession(s);
      setSessionCount((n) => n + 1);
      s.start();
    },
    [link.room, link.token, local],
  );

  // When the meeting ends (left or failed), release camera and microphone.
  useEffect(() => {
    if (!session) return;
    return session.subscribe(() => {
      const phase = session.getSnapshot().phase;
      if (phase === 'left' || phase === 'failed') local?.stop();
    });
  }, [session, local]);

  // Closing the page: tell the server.
  useEffect(() => {
    if (!session) return;
    const bye = () => session.dispose();
    window.addEventListener('pagehide', bye);
    return () => window.removeEventListener('pagehide', bye);
  }, [session]);

  const backToStart = () => {
    setDebugSession(null);
    setSession(null);
    setMediaEpoch((n) => n + 1);
  };

  const dict = dictionaries[lang];
  let screen;
  if (!link.token || !link.room) {
    screen = <NeedLinkScreen />;
  } else if (session) {
    screen = (
      <Meeting
        key={sessionCount}
        session={session}
        local={local}
        room={link.room}
        name={name}
        lang={lang}
        onLang={chooseLang}
        onRejoin={backToStart}
        onBackToStart={backToStart}
      />
    );
  } else {
    screen = (
      <PreJoin
        lang={lang}
        onLang={chooseLang}
        room={link.room}
        identity={claims?.sub ?? null}
        name={name}
        onName={setName}
        local={local}
        joining={false}
        onJoin={(n) => startSession(n)}
      />
    );
  }
  return <I18nContext.Provider value={dict}>{screen}</I18nContext.Provider>;
}
