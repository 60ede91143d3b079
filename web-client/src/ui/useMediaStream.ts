import { useEffect, type RefObject } from 'react';

/** Attach a stream to a media element and start playing it; reports a blocked autoplay. */
export function useMediaStream(
  ref: RefObject<HTMLMediaElement | null>,
  stream: MediaStream | null,
  onBlocked?: () => void,
): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) {
      el.play().catch((e: unknown) => {
        if ((e as { name?: string }).name === 'NotAllowedError') onBlocked?.();
      });
    }
  }, [ref, stream, onBlocked]);
}

/** Play through the chosen speaker (where the browser supports choosing one). */
export function useSinkId(ref: RefObject<HTMLMediaElement | null>, sinkId: string | null): void {
  useEffect(() => {
    const el = ref.current as (HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> }) | null;
    if (!el?.setSinkId) return;
    el.setSinkId(sinkId ?? '').catch(() => undefined);
  }, [ref, sinkId]);
}
