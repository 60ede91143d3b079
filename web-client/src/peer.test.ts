import { describe, expect, it } from 'vitest';
import { PublisherConnection } from './peer';
import { iceUfrag, msidsByMid, publisherTrackId } from './sdpInfo';
import { PublishNegotiator } from './negotiation';
import { FakePc, FakeStream, FakeTrack, flush } from './testing/fakes';

const pub = () => {
  const pc = new PublisherConnection((c) => new FakePc(c) as unknown as RTCPeerConnection, {}, { onCandidate: () => undefined });
  return { pub: pc, fake: pc.pc as unknown as FakePc };
};
const track = (kind: 'audio' | 'video', id: string) => new FakeTrack(kind, id) as unknown as MediaStreamTrack;
const stream = new FakeStream('s') as unknown as MediaStream;

describe('sdp facts', () => {
  it('reads ICE ufrag and msids per mid', () => {
    const sdp = 'v=0\r\na=ice-ufrag:abc\r\nm=audio 9\r\na=mid:0\r\na=msid:p2 p2-0\r\nm=video 9\r\na=mid:1\r\na=msid:p3 other\r\nm=video 9\r\na=mid:2\r\n';
    expect(iceUfrag(sdp)).toBe('abc');
    expect(iceUfrag(null)).toBeNull();
    const m = msidsByMid(sdp);
    expect([...m.keys()]).toEqual(['0', '1']);
    expect(publisherTrackId(m.get('0')!)).toBe('0');
    expect(publisherTrackId(m.get('1')!)).toBeNull();
  });
});

describe('publisher connection', () => {
  it('adds a transceiver per new source, replaces tracks in place, and turns an ended share inactive', async () => {
    const { pub: p, fake } = pub();
    expect(await p.setTrack('microphone', track('audio', 'm'), stream)).toBe(true);
    expect(await p.setTrack('camera', null, stream)).toBe(false);
    expect(await p.setTrack('camera', track('video', 'c'), stream)).toBe(true);
    expect(await p.setTrack('camera', track('video', 'c2'), stream)).toBe(false);
    expect(await p.setTrack('camera', null, stream)).toBe(false);
    expect(fake.transceivers[1]!.direction).toBe('sendonly');
    expect(await p.setTrack('screen', track('video', 's'), stream)).toBe(true);
    expect(await p.setTrack('screen', null, null)).toBe(true);
    expect(fake.transceivers[2]!.direction).toBe('inactive');
    expect(await p.setTrack('screen', track('video', 's2'), stream)).toBe(true);
    expect(fake.transceivers).toHaveLength(3);
    const offer = await p.createOffer();
    expect(offer.sources).toEqual({ '0': 'microphone', '1': 'camera', '2': 'screen' });
  });

  it('sends the camera in three simulcast layers (l, m, h) and everything else as one stream', async () => {
    const { pub: p, fake } = pub();
    await p.setTrack('microphone', track('audio', 'm'), stream);
    await p.setTrack('camera', track('video', 'c'), stream);
    await p.setTrack('screen', track('video', 's'), stream);
    const [mic, cam, screen] = fake.transceivers;
    expect(mic!.init.sendEncodings).toBeUndefined();
    expect(screen!.init.sendEncodings).toBeUndefined();
    const enc = cam!.init.sendEncodings!;
    expect(enc.map((e) => e.rid)).toEqual(['l', 'm', 'h']);
    expect(enc.map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 1]);
    // Lowest first, each layer allowed more than the one below.
    expect(enc[0]!.maxBitrate! < enc[1]!.maxBitrate! && enc[1]!.maxBitrate! < enc[2]!.maxBitrate!).toBe(true);
  });

  it('stops and resumes a source by its encodings, without renegotiation', async () => {
    const { pub: p, fake } = pub();
    await p.setTrack('microphone', track('audio', 'm'), stream);
    const mic = fake.transceivers[0]!.sender;
    await p.setSending('microphone', false);
    expect(mic.encodings.map((e) => e.active)).toEqual([false]);
    await p.setSending('microphone', true);
    expect(mic.encodings.map((e) => e.active)).toEqual([true]);
    // A source without a sender: nothing to do.
    await p.setSending('screen', false);
    expect(fake.transceivers).toHaveLength(1);
  });

  it('ignores stale answers: in stable state, or with the old ufrag after an ICE restart', async () => {
    const { pub: p, fake } = pub();
    await p.setTrack('microphone', track('audio', 'm'), stream);
    await p.createOffer();
    expect(await p.applyAnswer('v=0\r\na=ice-ufrag:one\r\n')).toBe(true);
    expect(await p.applyAnswer('v=0\r\na=ice-ufrag:one\r\n')).toBe(false);
    await p.createOffer(); // lost with the connection
    const restart = await p.createOffer(true);
    expect(restart.sdp).toContain('restart');
    expect(fake.log).toContain('setLocal:rollback');
    expect(await p.applyAnswer('v=0\r\na=ice-ufrag:one\r\n')).toBe(false);
    expect(await p.applyAnswer('v=0\r\na=ice-ufrag:two\r\n')).toBe(true);
  });
});

describe('publish negotiation', () => {
  it('keeps one offer outstanding and folds later requests into the next one', async () => {
    const { pub: p, fake } = pub();
    const sent: string[] = [];
    const n = new PublishNegotiator(p, (o) => sent.push(o.sdp), () => undefined);
    await p.setTrack('microphone', track('audio', 'm'), stream);
    n.request();
    n.request();
    n.request({ iceRestart: true });
    await flush();
    expect(sent).toEqual(['offer-with-1-tracks']);
    await n.answered('v=0\r\na=ice-ufrag:x\r\n');
    await flush();
    expect(sent).toEqual(['offer-with-1-tracks', 'offer-with-1-tracks-restart']);
    expect(fake.offers).toBe(2);
    await n.answered('v=0\r\na=ice-ufrag:y\r\n');
    await flush();
    expect(n.pending).toBe(false);
    n.restartAfterResume();
    await flush();
    expect(sent.at(-1)).toBe('offer-with-1-tracks-restart');
  });
});
