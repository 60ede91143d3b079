// Audio end to end with real Chromiums: RFC 2198 RED and lip sync.
//
// Chromium offers red/48000/2 next to Opus by default. The SFU answers with RED before Opus (so Chromium sends
// RED) and offers it to subscribers, who accept it: RED packets reach the SFU (its counter; Chromium's getStats
// names the decoder, audio/opus, for RED as well), pass unchanged, and the audio plays. And a remote
// participant's audio and video must arrive as one MediaStream (one msid stream id on both m-lines), which is
// what Chromium's audio/video synchronisation groups by.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { assertVideoPlaying, launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { audioEnergy, join, until } from './lib/meeting.mjs';
import { makeJoinUrl, startServer } from './lib/server.mjs';

/** Keeps every RTCPeerConnection in window.__pcs and every `track` event as window.__tracks. */
const RECORD = () => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.__tracks = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
      this.addEventListener('track', (ev) => {
        window.__tracks.push({
          kind: ev.track.kind,
          trackId: ev.track.id,
          mid: ev.transceiver?.mid ?? null,
          streamIds: ev.streams.map((s) => s.id),
          // The kinds of the tracks that share the first stream (audio and video of one publisher: both).
          streamKinds: () => (ev.streams[0] ? ev.streams[0].getTracks().map((t) => t.kind).sort() : []),
          stream: ev.streams[0] ?? null,
        });
      });
    }
  };
};

/** Per direction, the codec mimeTypes of audio RTP streams (from getStats), and the audio packets so far. */
function audioCodecs(page) {
  return page.evaluate(async () => {
    const out = { inbound: [], outbound: [], packetsReceived: 0, bytesReceived: 0, packetsSent: 0, bytesSent: 0 };
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.kind !== 'audio' || (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp')) return;
        const codec = s.codecId ? byId.get(s.codecId)?.mimeType : null;
        if (s.type === 'inbound-rtp') {
          out.inbound.push(codec);
          out.packetsReceived += s.packetsReceived ?? 0;
          out.bytesReceived += s.bytesReceived ?? 0;
        } else if ((s.packetsSent ?? 0) > 0) {
          out.outbound.push(codec);
          out.packetsSent += s.packetsSent;
          out.bytesSent += s.bytesSent ?? 0;
        }
      });
    }
    return out;
  });
}

/** The audio m-line and its red/opus rtpmap lines of every description in the page (for failure messages). */
function audioSdp(page) {
  return page.evaluate(() =>
    window.__pcs.flatMap((pc) =>
      [['local', pc.localDescription], ['remote', pc.remoteDescription]].map(([side, d]) => {
        const lines = (d?.sdp ?? '').split('\r\n');
        const m = lines.findIndex((l) => l.startsWith('m=audio'));
        const codecs = lines.filter((l) => /^a=(rtpmap|fmtp):\d+ (red|opus|\d+\/\d+)/i.test(l));
        return `${side} ${d?.type}: ${lines[m]} | ${codecs.join(' | ')}`;
      }),
    ),
  );
}

/** What the page's remote description says about each m-line: kind, msid stream id, cnames. */
function remoteMlines(page) {
  return page.evaluate(() => {
    const out = [];
    for (const pc of window.__pcs) {
      const sdp = pc.remoteDescription?.sdp;
      if (!sdp || pc.connectionState === 'closed') continue;
      for (const section of sdp.split(/\r\nm=/).slice(1)) {
        const lines = section.split('\r\n');
        const msid = lines.find((l) => l.startsWith('a=msid:'));
        if (!msid || lines.some((l) => l === 'a=inactive' || l === 'a=recvonly')) continue;
        const cnames = [...new Set(lines.filter((l) => / cname:/.test(l)).map((l) => l.split(' cname:')[1]))];
        out.push({ kind: lines[0].split(' ')[0], stream: msid.slice('a=msid:'.length).split(' ')[0], cnames });
      }
    }
    return out;
  });
}

test('audio: RED is negotiated and played, and a remote participant\'s audio and video share one stream', { timeout: 120_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 1 });
    setServer(server);
    for (const identity of ['alice', 'bob']) {
      const url = await makeJoinUrl(server, bin, { room: 'audio-e2e', identity, name: identity });
      people.push({ identity, url, ...(await launchParticipant(identity, { initScript: RECORD })) });
    }
    const [alice, bob] = people;

    await step('both join, publish and see each other', async () => {
      for (const p of people) await join(p);
      for (const [p, other] of [[alice, bob], [bob, alice]]) {
        const v = await assertVideoPlaying(p.page, other.identity, 20_000);
        assert.ok(v.framesAfter > v.framesBefore, `${p.identity} sees ${other.identity}`);
      }
    }, { critical: true });

    await step('RED is negotiated both ways, Chromium sends it, the SFU passes it on unchanged', async () => {
      for (const p of people) {
        const sdp = (await audioSdp(p.page)).join('\n');
        // Publisher answer and subscriber offer from the SFU: red/48000/2 wrapping Opus, listed before it.
        for (const d of (await audioSdp(p.page)).filter((x) => x.startsWith('remote'))) {
          const pts = d.split(' | ')[0].split(' ').slice(5);
          const red = /a=rtpmap:(\d+) red\/48000\/2/.exec(d)?.[1];
          const opus = /a=rtpmap:(\d+) opus\/48000\/2/.exec(d)?.[1];
          assert.ok(red && opus && pts.indexOf(red) < pts.indexOf(opus), `${p.identity}: RED before Opus\n${sdp}`);
          assert.ok(d.includes(`a=fmtp:${red} ${opus}/${opus}`), sdp);
        }
      }
      // Chromium's getStats names the decoder (audio/opus) for RED too, so the SFU's counters tell: RED packets
      // arrive from the publishers, and none had to be stripped (both subscribers negotiated RED).
      const metric = async (name) => {
        const body = await (await fetch(`${server.baseUrl}/metrics`)).text();
        const line = body.split('\n').find((l) => l.startsWith(`${name} `));
        return line ? Number(line.split(' ')[1]) : 0;
      };
      const red = await until('RED packets at the SFU', async () => {
        const n = await metric('plenum_sfu_red_packets_in_total');
        return { ok: n > 100, value: n };
      }, 10_000, 250);
      assert.ok(red > 100, `${red} RED packets`);
      assert.equal(await metric('plenum_sfu_red_stripped_total'), 0, 'nothing stripped');
      for (const p of people) {
        const c = await until(`${p.identity}: inbound audio`, async () => {
          const c = await audioCodecs(p.page);
          return { ok: c.inbound.length === 1 && c.packetsReceived > 50, value: c };
        }, 15_000);
        assert.ok(c.packetsReceived > 50, JSON.stringify(c));
      }
      // The fake microphone beeps: energy and samples arrive from the other participant.
      for (const [p, other] of [[alice, bob], [bob, alice]]) {
        const e = await audioEnergy(p.page, other.identity, 2000);
        assert.ok(e && e.samples > 0 && e.energy > 0, `${p.identity} hears ${other.identity}: ${JSON.stringify(e)}`);
      }
    });

    await step('lip sync: the remote audio and video tracks arrive in one MediaStream', async () => {
      for (const p of people) {
        const tracks = await p.page.evaluate(() =>
          window.__tracks.map((t) => ({ kind: t.kind, mid: t.mid, streamIds: t.streamIds, streamKinds: t.streamKinds() })),
        );
        const audio = tracks.filter((t) => t.kind === 'audio');
        const video = tracks.filter((t) => t.kind === 'video');
        assert.equal(audio.length, 1, `${p.identity}: one remote audio track ${JSON.stringify(tracks)}`);
        assert.equal(video.length, 1, `${p.identity}: one remote video track ${JSON.stringify(tracks)}`);
        assert.equal(audio[0].streamIds.length, 1);
        assert.deepEqual(audio[0].streamIds, video[0].streamIds, `${p.identity}: same stream id`);
        assert.deepEqual(audio[0].streamKinds, ['audio', 'video'], `${p.identity}: the stream holds both tracks`);
        // Chromium's getStats has no sync group; what it groups by is the msid stream id in the subscriber SDP:
        // one active audio and one active video m-line with the remote stream's id. (Their CNAMEs differ: str0m
        // takes them from the msid track id, see docs/media.md.)
        const mlines = await remoteMlines(p.page);
        const a = mlines.filter((m) => m.kind === 'audio' && m.stream === audio[0].streamIds[0]);
        const v = mlines.filter((m) => m.kind === 'video' && m.stream === audio[0].streamIds[0]);
        assert.equal(a.length, 1, JSON.stringify(mlines));
        assert.equal(v.length, 1, JSON.stringify(mlines));
      }
    });
  });
});
