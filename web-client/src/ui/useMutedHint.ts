import { useEffect, useState } from 'react';
import { LevelMeter, SpeechDetector } from '../media';

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
    const speech = new SpeechDetector();
    let hideTimer: ReturnType<typeof setTimeout> | null = null;
    const meter = new LevelMeter(new MediaStream([copy]), (level) => {
      if (speech.update(level, Date.now())) {
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
