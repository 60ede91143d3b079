// Congestion control with a real browser behind a real bottleneck: bob's Chromium runs in its own network
// namespace, and the kernel's token bucket filter caps what reaches it. Alice publishes her 1280x720 camera in three
// simulcast layers; bob shows her in a large tile. Uncapped he decodes the high layer; with 5 % random loss on his
// link he stays there and retransmissions repair the stream (the frame rate holds); capped at 400 kbit/s the
// SFU's allocator (from the bandwidth estimate of bob's subscriber connection, fed by Chromium's transport-wide
// feedback) moves him to a lower layer and his video keeps playing; at 70 kbit/s the video drops to the low
// layer's base frame rate or pauses (his tile says so) while the sound goes on; with the cap gone the video resumes and climbs back to the high layer.
//
// Needs root for the namespace and tc: skipped (with the reason) elsewhere.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { launchParticipant, sampleAudio } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { createNetns, netnsUnavailable } from './lib/netns.mjs';
import { join, sleep, tile, until, waitTileAttr, waitVideoPlaying } from './lib/meeting.mjs';

const ROOM = 'bandwidth';
const CAP_KBIT = 400;
const LOSS_PCT = 5;
// Below the low layer at full frame rate plus audio: fewer frames or a pause, never a stalled link.
const PAUSE_KBIT = 70;

/** Decoded width and frames decoded so far of `identity`'s video in `page`. */
const video = (page, identity) =>
  page.evaluate((sel) => {
    const v = document.querySelector(sel);
    return { width: v?.videoWidth ?? 0, frames: v?.getVideoPlaybackQuality().totalVideoFrames ?? 0 };
  }, `${tile(identity)} video`);

/** bob's inbound-rtp figures of alice's video (cumulative). */
const inboundVideo = (page) =>
  page.evaluate(async () => (await window.__plenum.stats()).inboundVideo.find((v) => v.identity === 'alice') ?? {});

/** The SFU's counters that explain a failure or a success. */
async function sfuFigures(server) {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const pick = (re) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    retransmissions: pick(/^plenum_sfu_retransmissions_total (\d+)/m),
    nacksReceived: pick(/^plenum_sfu_nacks_received_total (\d+)/m),
    layerSwitches: pick(/^plenum_sfu_layer_switches_total (\d+)/m),
    videosPaused: pick(/^plenum_sfu_videos_paused\{[^}]*\} (\d+)/m),
    estimateSum: pick(/^plenum_sfu_subscriber_estimate_bps_sum ([\d.e+]+)/m),
    estimateCount: pick(/^plenum_sfu_subscriber_estimate_bps_count (\d+)/m),
  };
}

test('a browser behind a 400 kbit/s bottleneck gets a lower layer, and the high one again when it is lifted', { timeout: 240_000 }, async (t) => {
  checkPrerequisites();
  const why = await netnsUnavailable();
  if (why) {
    assert.ok(!process.env.PLENUM_E2E_REQUIRE_NETNS, `PLENUM_E2E_REQUIRE_NETNS is set, but: ${why}`);
    t.skip(why);
    return;
  }
  const net = await createNetns();
  let baseFps = 0;
  try {
    await withSteps(t, async ({ step, people, setServer }) => {
      // The server listens on the host end of the veth: reachable from bob's namespace and from alice on the host.
      const server = await startServer({ bin, webDir: distDir, workers: 1, host: net.hostIp });
      setServer(server);
      const origin = server.baseUrl;
      // Camera and microphone need a secure context; the test origin is plain HTTP on a private address.
      const secure = [`--unsafely-treat-insecure-origin-as-secure=${origin}`];
      const [aliceUrl, bobUrl] = await Promise.all([
        makeJoinUrl(server, bin, { room: ROOM, identity: 'alice', name: 'Alice' }),
        makeJoinUrl(server, bin, { room: ROOM, identity: 'bob', name: 'Bob' }),
      ]);
      const alice = await launchParticipant('alice', { extraArgs: secure });
      const bob = await launchParticipant('bob', {
        extraArgs: secure,
        executablePath: net.launcher,
        viewport: { width: 2400, height: 1400 },
      });
      people.push({ ...alice, url: aliceUrl }, { ...bob, url: bobUrl });
      const [A, B] = people;

      await step('both join; bob only watches (camera and microphone off)', async () => {
        await join(A);
        await join(B);
        await B.page.getByTestId('mic-toggle').click();
        await B.page.getByTestId('camera-toggle').click();
        await waitVideoPlaying(B.page, `${tile('alice')} video`, "alice's video at bob", 20_000);
      }, { critical: true });

      await step('uncapped, bob decodes alice at 1280 px', async () => {
        const v = await until('alice at 1280 px for bob', async () => {
          const v = await video(B.page, 'alice');
          return { ok: v.width === 1280, value: v };
        }, 40_000, 500);
        // The frame rate bob decodes without impairment (Chromium's encoder adapts to the loaded machine).
        const b0 = await inboundVideo(B.page);
        await sleep(6000);
        const b1 = await inboundVideo(B.page);
        baseFps = (b1.framesDecoded - b0.framesDecoded) / 6;
        console.log(`uncapped: ${JSON.stringify(v)}, ${baseFps.toFixed(1)} fps decoded, lost ${b1.packetsLost - b0.packetsLost} of ${b1.packetsReceived - b0.packetsReceived}; ${JSON.stringify(await sfuFigures(server))}`);
        assert.ok(baseFps >= 5, `bob decodes alice's video: ${baseFps.toFixed(1)} fps`);
      }, { critical: true });

      await step(`with ${LOSS_PCT} % random loss, the video stays sharp and fluid: bob's NACKs are answered with retransmissions`, async () => {
        const s0 = await inboundVideo(B.page);
        const m0 = await sfuFigures(server);
        await net.loss(LOSS_PCT);
        await sleep(12_000);
        const s1 = await inboundVideo(B.page);
        const m1 = await sfuFigures(server);
        const dropped = await net.dropped();
        await net.loss(0);
        const v = await video(B.page, 'alice');
        const d = (k) => (s1[k] ?? 0) - (s0[k] ?? 0);
        const fps = d('framesDecoded') / 12;
        console.log(`loss ${LOSS_PCT} %: ${dropped} datagrams dropped in 12 s; bob sent ${d('nackCount')} NACKs, got ${d('retransmittedPacketsReceived')} retransmissions (SFU: ${m1.retransmissions - m0.retransmissions} RTX for ${m1.nacksReceived - m0.nacksReceived} NACKed packets); lost ${d('packetsLost')} of ${d('packetsReceived')}; ` +
          `${fps.toFixed(1)} fps decoded (${baseFps.toFixed(1)} without loss), ${d('pliCount')} PLI, ${d('freezeCount')} freezes (${d('totalFreezesDuration').toFixed(2)} s); now ${v.width} px`);
        // About 60 expected (5 % of ~1200 datagrams); the check is only that the rule is active.
        assert.ok(dropped > 20, `the loss rule dropped datagrams: ${dropped}`);
        assert.ok(d('nackCount') > 0, 'bob asked for the lost packets');
        assert.ok(m1.retransmissions > m0.retransmissions, 'the SFU retransmitted');
        assert.ok(d('retransmittedPacketsReceived') > 0, 'retransmissions reached bob');
        // Chromium's packetsLost does not go down for packets recovered by retransmission; what shows the repair
        // is the decoder: an unrepaired loss leaves a frame undecodable, and every frame after it until a keyframe
        // (a keyframe request, a freeze). The frame rate may also dip for other reasons (the allocator dropping a
        // temporal layer while the estimate reacts to the loss, the encoder adapting on a loaded machine; seen once
        // in the test command's run: 15.7 of 20 fps with 0 keyframe requests and 0 freezes), so it has room.
        assert.ok(d('pliCount') <= 1, `no frame left unrepaired: ${d('pliCount')} keyframe requests in 12 s`);
        assert.ok(fps >= 0.6 * baseFps, `the frame rate holds under loss: ${fps.toFixed(1)} fps, ${baseFps.toFixed(1)} without`);
        assert.ok(d('totalFreezesDuration') < 1, `no visible freeze: ${d('totalFreezesDuration').toFixed(2)} s frozen in 12 s`);
        assert.ok(v.width >= 640, `random loss alone does not push bob down to the low layer: ${v.width} px`);
      });

      await step(`capped at ${CAP_KBIT} kbit/s, bob falls to the low layer and his video keeps playing`, async () => {
        const before = await sfuFigures(server);
        const bytes0 = await net.bytesToNamespace();
        const t0 = Date.now();
        await net.limit(CAP_KBIT);
        const v = await until('alice below 1280 px for bob', async () => {
          const v = await video(B.page, 'alice');
          return { ok: v.width > 0 && v.width < 1280, value: v };
        }, 45_000, 250);
        const tookMs = Date.now() - t0;
        // Playing at the low layer: frames keep coming over 4 s (the fake camera runs at 30 fps).
        await sleep(1000);
        const f0 = (await video(B.page, 'alice')).frames;
        await sleep(4000);
        const f1 = (await video(B.page, 'alice')).frames;
        const after = await sfuFigures(server);
        const kbit = ((await net.bytesToNamespace()) - bytes0) * 8 / (Date.now() - t0);
        console.log(`capped: ${v.width} px after ${tookMs} ms; ${f1 - f0} frames in 4 s; ${kbit.toFixed(0)} kbit/s crossed the cap; ${JSON.stringify(after)}`);
        // The Allocator may also drop temporal layers (down to a quarter of the frame rate): playing means >= 1/4.
        assert.ok(f1 - f0 >= baseFps, `alice's video at bob must keep playing under the cap: ${f1 - f0} frames in 4 s (${baseFps.toFixed(1)} fps uncapped)`);
        assert.ok(after.layerSwitches > before.layerSwitches, 'the SFU switched bob\'s layer');
        assert.ok(kbit <= CAP_KBIT * 1.1, `the cap held: ${kbit.toFixed(0)} kbit/s`);
      });

      await step(`capped at ${PAUSE_KBIT} kbit/s, the video pauses (bob is told) or drops to the low layer's base frame rate, and alice's sound goes on`, async () => {
        await net.limit(PAUSE_KBIT);
        // Below the low layer at full frame rate: the allocator first drops temporal layers (fewer frames), and
        // pauses when even the low layer's base layer does not fit; which of the two depends on the encoder's
        // rate for the fake camera.
        const outcome = await until('paused or reduced frame rate', async () => {
          const paused = await B.page.locator(`${tile('alice')}[data-video-paused="true"]`).count();
          if (paused) return { ok: true, value: 'paused' };
          const f0 = await inboundVideo(B.page);
          await sleep(2000);
          const f1 = await inboundVideo(B.page);
          const fps = (f1.framesDecoded - f0.framesDecoded) / 2;
          const width = (await video(B.page, 'alice')).width;
          return { ok: width <= 320 && fps <= 0.6 * baseFps, value: `${width} px at ${fps.toFixed(1)} fps` };
        }, 40_000, 250);
        if (outcome === 'paused') {
          const text = await B.page.locator(`${tile('alice')} [data-testid="tile-avatar"]`).innerText();
          assert.match(text, /Video pausiert/, `the tile says why: ${text}`);
        }
        // The sound goes on once the link has settled (right after the cut the video still fills the queue).
        const packets = (s) => Object.values(s).reduce((n, a) => n + (a.packets ?? 0), 0);
        const t0 = Date.now();
        const got = await until('alice\'s audio flowing at >= 25 packets/s', async () => {
          const audio = await sampleAudio(B.page);
          const n = packets(audio.after) - packets(audio.before);
          return { ok: n >= 25, value: n };
        }, 10_000, 0);
        console.log(`${outcome} at ${PAUSE_KBIT} kbit/s: ${got} audio packets in 1 s (${Date.now() - t0} ms after the outcome); ${JSON.stringify(await sfuFigures(server))}`);
      });

      await step('with the cap lifted, the video resumes and climbs back to the high layer', async () => {
        const t0 = Date.now();
        await net.unlimit();
        await waitTileAttr(B.page, 'alice', 'data-video-paused', 'false', 30_000);
        const v = await until('alice at 1280 px for bob again', async () => {
          const v = await video(B.page, 'alice');
          return { ok: v.width === 1280, value: v };
        }, 90_000, 500);
        console.log(`uncapped again: 1280 px after ${Date.now() - t0} ms; ${JSON.stringify(v)}; ${JSON.stringify(await sfuFigures(server))}`);
      });
    });
  } finally {
    await net.close();
  }
});
