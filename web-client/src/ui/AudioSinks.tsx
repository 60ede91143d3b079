import { useRef } from 'react';
import type { ParticipantMedia } from '../remoteMedia';
import { useMediaStream, useSinkId } from './useMediaStream';

function Sink({ stream, sinkId, onBlocked, sid }: { stream: MediaStream; sinkId: string | null; onBlocked: () => void; sid: string }) {
  const ref = useRef<HTMLAudioElement>(null);
  useMediaStream(ref, stream, onBlocked);
  useSinkId(ref, sinkId);
  return <audio ref={ref} autoPlay data-remote-audio="" data-sid={sid} />;
}

/**
 * The sound of every remote participant (and of shared screens), independent of which tiles are on screen, through
 * the chosen speaker.
 */
export function AudioSinks({ media, sinkId, onBlocked }: { media: ReadonlyMap<string, ParticipantMedia>; sinkId: string | null; onBlocked: () => void }) {
  const sinks: Array<{ key: string; sid: string; stream: MediaStream }> = [];
  for (const [sid, m] of media) {
    if (m.main && m.main.getAudioTracks().length > 0) sinks.push({ key: `${sid}-main`, sid, stream: m.main });
    if (m.screen && m.screen.getAudioTracks().length > 0) sinks.push({ key: `${sid}-screen`, sid, stream: m.screen });
  }
  return (
    <div className="audio-sinks" hidden>
      {sinks.map((s) => (
        <Sink key={s.key} sid={s.sid} stream={s.stream} sinkId={sinkId} onBlocked={onBlocked} />
      ))}
    </div>
  );
}
