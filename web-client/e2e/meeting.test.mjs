// Browser end-to-end test: three headless Chromiums meet through a real `plenum serve` on loopback.
//
// Needs: the server binary (PLENUM_BIN, default ../target/debug/plenum), the built client (dist/, made by
// `npm run build`, which `npm run e2e` runs first), and Debian's Chromium at /usr/bin/chromium.
// PLENUM_E2E_VERBOSE=1 prints the pages' state and the server's output even when everything passes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { assertVideoPlaying, clickJoinAndWatchFirstFrame, launchParticipant, sampleAudio, tileIdentities } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, resultsDir, withSteps } from './lib/harness.mjs';
import { until, waitJoinedAndPublishing } from './lib/meeting.mjs';

const ROOM = 'e2e';

// Token name vs. the name typed on the pre-join screen (which must win).
const PEOPLE = [
  { identity: 'alice', tokenName: 'Alice', typedName: 'Alice Adler' },
  { identity: 'bob', tokenName: 'Bob', typedName: 'Bob Bäcker' },
  { identity: 'carol', tokenName: 'Carol', typedName: 'Carol Claßen' },
];

test('three participants see and hear each other, and a leave removes the tile', { timeout: 115_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 2 });
    setServer(server);
    const urls = await Promise.all(PEOPLE.map((p) => makeJoinUrl(server, bin, { room: ROOM, identity: p.identity, name: p.tokenName })));
    const browsers = await Promise.all(PEOPLE.map((p) => launchParticipant(p.identity)));
    browsers.forEach((b, i) => people.push({ ...PEOPLE[i], ...b, url: urls[i] }));

    await step('pre-join screen: name prefilled from the token, German UI', async () => {
      await Promise.all(
        people.map(async (p) => {
          await p.page.goto(p.url, { timeout: 15_000 });
          const input = p.page.getByTestId('display-name');
          assert.equal(await input.inputValue(), p.tokenName);
          assert.equal(await p.page.getAttribute('html', 'lang'), 'de');
          await input.fill(p.typedName);
        }),
      );
    }, { critical: true });

    // One after another, each joining a room where the others already publish.
    await step('join', async () => {
      for (const p of people) {
        await clickJoinAndWatchFirstFrame(p.page);
        await waitJoinedAndPublishing(p.page);
      }
    }, { critical: true });

    await step('each sees exactly the two others', async () => {
      for (const p of people) {
        const others = people.filter((o) => o !== p).map((o) => o.identity).sort();
        await until(`${p.identity}'s tiles`, async () => {
          const ids = await tileIdentities(p.page);
          return { ok: JSON.stringify(ids) === JSON.stringify(others), value: ids };
        }, 15_000);
        for (const o of people.filter((x) => x !== p)) {
          const caption = await p.page.locator(`[data-testid="participant-tile"][data-identity="${o.identity}"] .name`).innerText();
          assert.equal(caption, o.typedName, `${p.identity} shows ${o.identity} under the typed name`);
        }
      }
    });

    await step('video plays in every remote tile', async () => {
      await Promise.all(
        people.flatMap((p) =>
          people
            .filter((o) => o !== p)
            .map(async (o) => {
              const v = await assertVideoPlaying(p.page, o.identity);
              assert.ok(v.width > 0, `${p.identity} sees ${o.identity}: videoWidth ${v.width}`);
              assert.ok(v.framesAfter > v.framesBefore, `${p.identity} sees ${o.identity}: frames ${v.framesBefore} → ${v.framesAfter}`);
            }),
        ),
      );
    });

    await step('audio arrives from every other participant', async () => {
      for (const p of people) {
        const others = people.filter((o) => o !== p).map((o) => o.identity);
        await until(`${p.identity}'s inbound audio`, async () => {
          const { before, after } = await sampleAudio(p.page);
          const growing = others.every(
            (id) => before[id] && after[id] && after[id].packets > before[id].packets && after[id].samples > before[id].samples,
          );
          return { ok: growing, value: { before, after } };
        }, 10_000, 0);
      }
    });

    await step('/metrics: join latency, RTT, jitter, loss and tracks from the real meeting', async () => {
      const value = (text, name) => {
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        return line ? Number(line.split(' ')[1]) : NaN;
      };
      const sumOf = (text, name) =>
        text.split('\n').filter((l) => l.startsWith(`${name}{`)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
      // The SFU samples link quality once a second, from str0m's stats (also about once a second).
      const text = await until('quality histograms', async () => {
        const body = await (await fetch(`${server.baseUrl}/metrics`)).text();
        return { ok: value(body, 'plenum_sfu_rtt_seconds_count') > 0 && value(body, 'plenum_sfu_jitter_seconds_count') > 0, value: body };
      }, 15_000, 500);
      assert.ok(value(text, 'plenum_join_duration_seconds_count') >= 3, 'a join latency per participant');
      assert.ok(value(text, 'plenum_join_duration_seconds_sum') / value(text, 'plenum_join_duration_seconds_count') < 10);
      assert.ok(sumOf(text, 'plenum_sfu_loss_ratio_count') > 0, 'loss samples');
      assert.ok(sumOf(text, 'plenum_sfu_tracks_published') >= 6, 'audio and video of three people');
      assert.ok(sumOf(text, 'plenum_sfu_tracks_forwarded') >= 12, 'each track to two others');
      assert.ok(value(text, 'process_resident_memory_bytes') > 0);
    });

    await step('join-to-first-frame', async () => {
      const marks = Object.fromEntries(
        await Promise.all(people.map(async (p) => [p.identity, await p.page.evaluate(() => window.__e2e)])),
      );
      const results = {};
      for (const [i, p] of people.entries()) {
        const m = marks[p.identity];
        assert.ok(m.firstFrameAt !== null, `${p.identity} saw no remote frame`);
        // The first one to join sits in an empty room: its clock starts when the next one clicks Join.
        const start = i === 0 ? marks[people[1].identity].clickAt : m.clickAt;
        const ms = Math.round(m.firstFrameAt - start);
        results[p.identity] = { ms, from: i === 0 ? `${people[1].identity}'s join click (joined an empty room)` : 'own join click' };
        console.log(`join-to-first-frame ${p.identity}: ${ms} ms${i === 0 ? ` (from ${people[1].identity}'s join click)` : ''}`);
        if (i > 0) {
          const timeline = await p.page.evaluate(() => window.__plenum.timeline());
          results[p.identity].timeline = timeline; // [event, ms since Join], in order (events repeat)
          console.log(`  ${p.identity}: ${timeline.map(([e, t]) => `${e} ${t}`).join(', ')}`);
        }
      }
      await mkdir(resultsDir, { recursive: true });
      await writeFile(join(resultsDir, 'join-to-first-frame.json'), JSON.stringify({ at: new Date().toISOString(), results }, null, 2) + '\n');
    });

    await step('muting shows on the others\' tiles', async () => {
      const bob = people[1];
      await bob.page.getByTestId('mic-toggle').click();
      assert.equal(await bob.page.getByTestId('mic-toggle').getAttribute('aria-pressed'), 'true');
      for (const p of [people[0], people[2]]) {
        await p.page.waitForSelector('[data-testid="participant-tile"][data-identity="bob"][data-muted="true"]', { timeout: 5000 });
      }
      await bob.page.getByTestId('mic-toggle').click();
    });

    await step('carol leaves: her tile disappears for alice and bob within 10 s', async () => {
      const carol = people[2];
      await carol.page.getByTestId('leave-button').click();
      await carol.page.getByTestId('left-screen').waitFor({ timeout: 5000 });
      await Promise.all(
        people.slice(0, 2).map((p) =>
          p.page.waitForSelector('[data-testid="participant-tile"][data-identity="carol"]', { state: 'detached', timeout: 10_000 }),
        ),
      );
      for (const p of people.slice(0, 2)) {
        const others = people.slice(0, 2).filter((o) => o !== p).map((o) => o.identity);
        assert.deepEqual(await tileIdentities(p.page), others);
      }
    });
  });
});
