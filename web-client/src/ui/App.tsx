import { useCallback, useEffect, useMemo, useState } from 'react';
import { dictionaries, pickLanguage, type Lang } from '../i18n';
import { decodeTokenPayload, parseJoinLink } from '../joinLink';
import { acquireLocalMedia, stopStream, type LocalMedia } from '../media';
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
  const [media, setMedia] = useState<LocalMedia | null>(null);
  const [session, setSession] = useState<MeetingSession | null>(null);
  const [joining, setJoining] = useState(false);
  const [sessionCount, setSessionCount] = useState(0);

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

  // Camera and microphone for the pre-join screen (and then for publishing).
  useEffect(() => {
    if (!link.token || !link.room || session || media) return;
    let cancelled = false;
    void acquireLocalMedia().then((m) => {
      if (cancelled) stopStream(m.stream);
      else setMedia(m);
    });
    return () => {
      cancelled = true;
    };
  }, [link.token, link.room, session, media]);

  const startSession = useCallback(
    (m: LocalMedia, displayName: string) => {
      if (!link.room || !link.token) return;
      const s = new MeetingSession({
        wsUrl: signalingUrl(window.location),
        room: link.room,
        token: link.token,
        name: displayName,
        localStream: m.stream,
      });
      setDebugSession(s);
      setSession(s);
      setSessionCount((n) => n + 1);
      s.start();
    },
    [link.room, link.token],
  );

  // When the meeting ends (left or failed), release camera and microphone.
  useEffect(() => {
    if (!session) return;
    const check = () => {
      const phase = session.getSnapshot().phase;
      if (phase === 'left' || phase === 'failed') {
        stopStream(session.localStream);
        setMedia((m) => (m && m.stream === session.localStream ? null : m));
      }
    };
    const unsubscribe = session.subscribe(check);
    return () => {
      unsubscribe();
    };
  }, [session]);

  // Closing the page: tell the server.
  useEffect(() => {
    if (!session) return;
    const bye = () => session.dispose();
    window.addEventListener('pagehide', bye);
    return () => window.removeEventListener('pagehide', bye);
  }, [session]);

  const dict = dictionaries[lang];

  let screen;
  if (!link.token || !link.room) {
    screen = <NeedLinkScreen />;
  } else if (session) {
    screen = (
      <Meeting
        key={sessionCount}
        session={session}
        room={link.room}
        name={name}
        onRejoin={() => {
          setJoining(true);
          void acquireLocalMedia().then((m) => {
            setMedia(m);
            setJoining(false);
            startSession(m, name.trim());
          });
        }}
        onBackToStart={() => {
          setDebugSession(null);
          setSession(null);
        }}
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
        media={media}
        joining={joining}
        onJoin={(n) => {
          if (media) startSession(media, n);
        }}
      />
    );
  }
  return <I18nContext.Provider value={dict}>{screen}</I18nContext.Provider>;
}
