// Media quality in real browsers: alice publishes her 1280x720 camera in three simulcast layers; bob shows her in a
// large tile and receives the high layer, carol (a phone-sized window) shows her small and receives the low one.
// The speaker highlight follows who talks (a continuous tone as the fake microphone, the others muted). Bob and
// carol turn their cameras off, so bob's bandwidth estimate only has to carry alice's high layer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, tile, until, waitTileAttr, waitVideoPlaying } from './lib/meeting.mjs';

const ROOM = 'simulcast';

/** A WAV file with a continuous 440 Hz tone at about -12 dBFS (Chromium loops it as the fake microphone). */
async function toneWav(dir) {
  const rate = 48_000;
  const samples = rate * 4;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  const path = joinPath(dir, 'tone.wav');
  await writeFile(path, buf);
  return path;
}

/** The decoded width of `identity`'s video in `page`. */
const videoWidth = (page, identity) =>
  page.evaluate((sel) => document.querySelector(sel)?.videoWidth ?? 0, `${tile(identity)} video`);

test('simulcast layers follow tile sizes, and the speaker highlight follows who talks', { timeout: 150_000 }, async (t) => {
  checkPrerequisites();
  const dir = await mkdtemp(joinPath(tmpdir(), 'plenum-e2e-audio-'));
  try {
    const wav = await toneWav(dir);
    await withSteps(t, async ({ step, people, setServer }) => {
      const server = await startServer({ bin, webDir: distDir, workers: 2 });
      setServer(server);
      const specs = [
        { identity: 'alice', name: 'Alice', viewport: { width: 1280, height: 800 } },
        { identity: 'bob', name: 'Bob', viewport: { width: 2400, height: 1400 } },
        { identity: 'carol', name: 'Carol', viewport: { width: 360, height: 740 } },
      ];
      const urls = await Promise.all(specs.map((s) => makeJoinUrl(server, bin, { room: ROOM, ...s })));
      const browsers = await Promise.all(
        specs.map((s) => launchParticipant(s.identity, { viewport: s.viewport, extraArgs: [`--use-file-for-fake-audio-capture=${wav}`] })),
      );
      browsers.forEach((b, i) => people.push({ ...b, url: urls[i] }));
      const [A, B, C] = people;

      await step('everyone joins; bob and carol mute and turn their cameras off (they only watch)', async () => {
        for (const p of people) await join(p);
        for (const p of [B, C]) {
          await p.page.getByTestId('mic-toggle').click();
          await p.page.getByTestId('camera-toggle').click();
        }
        await waitVideoPlaying(B.page, `${tile('alice')} video`, "alice's video at bob");
        await waitVideoPlaying(C.page, `${tile('alice')} video`, "alice's video at carol");
      }, { critical: true });

      await step('bob, with a large tile, receives the high layer (1280 wide)', async () => {
        const box = await B.page.evaluate((sel) => {
          const r = document.querySelector(sel)?.getBoundingClientRect();
          return r ? `${Math.round(r.width)}x${Math.round(r.height)}` : 'none';
        }, `${tile('alice')} video`);
        console.log(`alice's tile at bob: ${box}`);
        const metrics = async () => (await (await fetch(`${server.baseUrl}/metrics`)).text())
          .split('\n').filter((l) => /estimate_bps_(sum|count)|estimate_bps\{quantile|videos_paused|layer_switches|keyframe/.test(l)).join('\n');
        let w;
        try {
          w = await until('alice at 1280 px for bob', async () => {
            const w = await videoWidth(B.page, 'alice');
            return { ok: w === 1280, value: w };
          }, 30_000, 500);
        } finally {
          console.log(await metrics());
        }
        console.log(`bob decodes alice at ${w} px`);
      });

      await step('carol, with a small tile, receives the low layer (320 wide)', async () => {
        const w = await until('alice at 320 px for carol', async () => {
          const w = await videoWidth(C.page, 'alice');
          return { ok: w === 320, value: w };
        }, 20_000, 500);
        console.log(`carol decodes alice at ${w} px`);
        // And stays there.
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(await videoWidth(C.page, 'alice'), 320);
      });

      await step('the speaker highlight follows who talks', async () => {
        await waitTileAttr(C.page, 'alice', 'data-speaking', 'true', 10_000);
        await waitTileAttr(B.page, 'alice', 'data-speaking', 'true', 10_000);
        await A.page.getByTestId('mic-toggle').click();
        await B.page.getByTestId('mic-toggle').click();
        await waitTileAttr(C.page, 'bob', 'data-speaking', 'true', 10_000);
        await waitTileAttr(C.page, 'alice', 'data-speaking', 'false', 10_000);
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
