// ICE-TCP: bob's Chromium may not use UDP at all (WebRTC IP handling policy disable_non_proxied_udp in his profile,
// what a UDP-blocking firewall leaves), yet he meets alice with video and sound both ways: his connections run
// over passive ICE-TCP on the SFU's media port, without TURN. Alice, who can use UDP, stays on UDP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { audioEnergy, join, tile, until, waitVideoPlaying } from './lib/meeting.mjs';

const ROOM = 'ice-tcp';
// Chromium's per-profile WebRTC policy (the same setting as the enterprise policy WebRtcIPHandling).
const NO_UDP = { webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } };

const paths = (page) => page.evaluate(() => window.__plenum.paths());

test('a browser that may not use UDP meets over ICE-TCP', { timeout: 90_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 1 });
    setServer(server);
    const [aliceUrl, bobUrl] = await Promise.all([
      makeJoinUrl(server, bin, { room: ROOM, identity: 'alice', name: 'Alice' }),
      makeJoinUrl(server, bin, { room: ROOM, identity: 'bob', name: 'Bob' }),
    ]);
    const alice = await launchParticipant('alice');
    const bob = await launchParticipant('bob', { preferences: NO_UDP });
    people.push({ ...alice, url: aliceUrl }, { ...bob, url: bobUrl });
    const [A, B] = people;

    await step('both join and see each other', async () => {
      await join(A);
      await join(B);
      await waitVideoPlaying(A.page, `${tile('bob')} video`, 'bob at alice', 20_000);
      await waitVideoPlaying(B.page, `${tile('alice')} video`, 'alice at bob', 20_000);
    }, { critical: true });

    await step('bob\'s connections run over TCP to the SFU\'s media port, alice\'s over UDP', async () => {
      const bobPaths = await until('bob\'s selected paths', async () => {
        const p = await paths(B.page);
        return { ok: !!p?.publisher && !!p?.subscriber, value: p };
      }, 10_000, 200);
      for (const [pc, path] of Object.entries(bobPaths)) {
        assert.equal(path.local.protocol, 'tcp', `bob's ${pc} path: ${JSON.stringify(path)}`);
        assert.equal(path.remote.protocol, 'tcp', `bob's ${pc} path: ${JSON.stringify(path)}`);
        assert.equal(path.remote.type, 'host', 'straight to the SFU, no relay');
        assert.equal(path.remote.port, server.mediaPort, 'the media port number, over TCP');
        assert.ok(path.bytesReceived > 0 && path.bytesSent > 0, `bytes both ways: ${JSON.stringify(path)}`);
      }
      const alicePaths = await paths(A.page);
      assert.equal(alicePaths.publisher?.local.protocol, 'udp', `alice keeps UDP: ${JSON.stringify(alicePaths)}`);
      console.log(`bob: ${JSON.stringify(bobPaths.subscriber.remote)}; alice: ${JSON.stringify(alicePaths.subscriber?.remote)}`);
    });

    await step('sound both ways', async () => {
      const [atAlice, atBob] = await Promise.all([audioEnergy(A.page, 'bob'), audioEnergy(B.page, 'alice')]);
      assert.ok(atAlice?.energy > 0 && atAlice.samples > 0, `bob's audio at alice: ${JSON.stringify(atAlice)}`);
      assert.ok(atBob?.energy > 0 && atBob.samples > 0, `alice's audio at bob: ${JSON.stringify(atBob)}`);
    });

    await step('the server counts the ICE-TCP connections', async () => {
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const accepted = Number(/^plenum_sfu_ice_tcp_accepted_total (\d+)/m.exec(metrics)?.[1] ?? 0);
      assert.ok(accepted >= 2, `accepted: ${accepted}`);
    });
  });
});
