// Which network path a peer connection uses: the selected ICE candidate pair's local and remote candidates
// (protocol udp/tcp, type host/srflx/prflx/relay). For diagnostics and the browser tests (ICE-TCP, TURN).

export interface PathEnd {
  protocol: string;
  type: string;
  address: string;
  port: number;
  /** For relay candidates: how the browser reaches the TURN server (udp, tcp, tls). */
  relayProtocol?: string;
}

export interface SelectedPath {
  local: PathEnd;
  remote: PathEnd;
  bytesSent: number;
  bytesReceived: number;
}

type Stat = Record<string, unknown> & { type: string; id: string };

function end(s: Stat | undefined): PathEnd | null {
  if (!s) return null;
  const out: PathEnd = {
    protocol: String(s.protocol ?? ''),
    type: String(s.candidateType ?? ''),
    address: String(s.address ?? s.ip ?? ''),
    port: Number(s.port ?? 0),
  };
  if (typeof s.relayProtocol === 'string') out.relayProtocol = s.relayProtocol;
  return out;
}

/** The selected candidate pair in a stats report, or null while none is selected. */
export function selectedPath(report: Iterable<Stat>): SelectedPath | null {
  const byId = new Map<string, Stat>();
  for (const s of report) byId.set(s.id, s);
  let pair: Stat | undefined;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId);
  }
  // Browsers without transport stats mark the pair itself.
  pair ??= [...byId.values()].find((s) => s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded')));
  if (!pair) return null;
  const local = end(byId.get(String(pair.localCandidateId)));
  const remote = end(byId.get(String(pair.remoteCandidateId)));
  if (!local || !remote) return null;
  return { local, remote, bytesSent: Number(pair.bytesSent ?? 0), bytesReceived: Number(pair.bytesReceived ?? 0) };
}

export async function pcPath(pc: RTCPeerConnection | null | undefined): Promise<SelectedPath | null> {
  if (!pc) return null;
  const report = await pc.getStats();
  return selectedPath(report.values() as Iterable<Stat>);
}
