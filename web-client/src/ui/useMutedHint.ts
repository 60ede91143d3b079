import { useEffect, useState } from 'react';
import { LevelMeter } from '../media';

/** Level above which the microphone hears speech. */
const SPEECH_LEVEL = 0.12;
/** Speech this long while muted shows the hint. */
const SPEAKING_MS = 400;
const HINT_MS = 4000;

/**
 * True for a few seconds when the microphone hears speech while muted. Listens to a copy of the microphone track
 * (the muted original sends silence), and only while muted.
 */
export function useMutedHint(mic: MediaStreamTrack | null, muted: boolean): boolean {
  const [show, setShow] = useState(false);
  useEffect(() => {
    if (!mic || !muted || typeof MediaStream === 'undefined') {
      setShow(false);
      return;
    }
    const copy = mic.clone();
    copy.enabled = true;
    let loudSince = 0;
    let hideTimer: ReturnType<typeof setTimeout> | null = null;
    const meter = new LevelMeter(new MediaStream([copy]), (level) => {
      const now = Date.now();
      if (level < SPEECH_LEVEL) {
        loudSince = 0;
        return;
      }
      if (!loudSince) loudSince = now;
      if (now - loudSince >= SPEAKING_MS) {
        setShow(true);
        if (hideTimer) clearTimeout(hideTimer);
        hideTimer = setTimeout(() => setShow(false), HINT_MS);
      }
    });
    meter.resume();
    return () => {
      meter.stop();
      copy.stop();
      if (hideTimer) clearTimeout(hideTimer);
    };
  }, [mic, muted]);
  return show;
}
