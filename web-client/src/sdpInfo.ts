// The few facts the client reads from SDP: ICE credentials and which remote track an m-line carries.

/** The first `a=ice-ufrag` of a description (session or media level), or null. */
export function iceUfrag(sdp: string | null | undefined): string | null {
  if (!sdp) return null;
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

export interface MsidInfo {
  /** The msid stream id: the publishing participant's sid. */
  streamId: string;
  /** The msid track id: `<sid>-<track_id>` from the SFU. */
  trackId: string;
}

/** mid → msid of each m-section that has both. */
export function msidsByMid(sdp: string): Map<string, MsidInfo> {
  const out = new Map<string, MsidInfo>();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const msid = /^a=msid:(\S+) (\S+)/m.exec(section);
    if (mid && msid) out.set(mid, { streamId: msid[1], trackId: msid[2] });
  }
  return out;
}

/** The publisher's track_id in an SFU msid track id `<sid>-<track_id>`, or null if it has another form. */
export function publisherTrackId(msid: MsidInfo): string | null {
  const prefix = `${msid.streamId}-`;
  return msid.trackId.startsWith(prefix) && msid.trackId.length > prefix.length ? msid.trackId.slice(prefix.length) : null;
}
