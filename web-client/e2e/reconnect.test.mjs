// Reconnect: bob's signaling and media run through relays the test pauses for 12 s (a network drop). Afterwards
// bob is back by itself, with video both ways, the same participant; alice never saw him leave.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, ownSid, seenEvents, sleep, tile, until, waitVideoPlaying } from './lib/meeting.mjs';
import { routeMediaScript, tcpRelay, udpRelay } from './lib/relay.mjs';

const ROOM = 'reconnect';
const OUTAGE_MS = 12_000;

test('a participant cut off for 12 s comes back by itself, and nobody saw it leave', { timeout: 120_000 }, async (t) => {
  checkPrerequisites();
  const relays = [];
  try {
    await withSteps(t, async ({ step, people, setServer }) => {
      // One SFU worker: one media port to relay.
      const server = await startServer({ bin, webDir: distDir, workers: 1 });
      setServer(server);
      const httpPort = Number(new URL(server.baseUrl).port);
      const ws = await tcpRelay(httpPort);
      const media = await udpRelay(server.mediaPort);
      relays.push(ws, media);
      const aliceUrl = await makeJoinUrl(server, bin, { room: ROOM, identity: 'alice', name: 'Alice' });
      const bobUrl = await makeJoinUrl(server, bin, { room: ROOM, identity: 'bob', name: 'Bob', baseUrl: `http://127.0.0.1:${ws.port}` });
      const alice = await launchParticipant('alice');
      const bob = await launchParticipant('bob', { initScript: routeMediaScript(server.mediaPort, media.port) });
      people.push({ ...alice, url: aliceUrl }, { ...bob, url: bobUrl });
      const [A, B] = people;
      let bobSid = null;

      await step('alice and bob (through the relays) see each other', async () => {
        await join(A);
        await join(B);
        await waitVideoPlaying(A.page, `${tile('bob')} video`, 'bob at alice');
        await waitVideoPlaying(B.page, `${tile('alice')} video`, 'alice at bob');
        bobSid = await ownSid(B.page);
        assert.match(bobSid, /^p\d+$/);
      }, { critical: true });

      await step(`bob is cut off for ${OUTAGE_MS / 1000} s: he sees a reconnecting banner, alice still sees him`, async () => {
        ws.pause();
        media.pause();
        const started = Date.now();
        await B.page.getByTestId('reconnecting-banner').waitFor({ timeout: OUTAGE_MS - 1000 });
        await until('bob\'s signaling notices the drop', async () => {
          const phase = await B.page.evaluate(() => window.__plenum.phase());
          return { ok: phase === 'reconnecting', value: phase };
        }, OUTAGE_MS - (Date.now() - started) - 500, 200);
        assert.ok(await A.page.locator(tile('bob')).isVisible(), 'bob\'s tile stays at alice');
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
      }, { critical: true });

      await step('restored: bob is back with video both ways within a few seconds, as the same participant', async () => {
        const restoredAt = Date.now();
        ws.resume();
        media.resume();
        await B.page.waitForFunction(() => window.__plenum.phase() === 'joined', null, { timeout: 10_000, polling: 100 });
        const [atAlice, atBob] = await Promise.all([
          waitVideoPlaying(A.page, `${tile('bob')} video`, 'bob at alice again', 15_000).then(() => Date.now() - restoredAt),
          waitVideoPlaying(B.page, `${tile('alice')} video`, 'alice at bob again', 15_000).then(() => Date.now() - restoredAt),
        ]);
        const took = Date.now() - restoredAt;
        console.log(`back with video both ways ${took} ms after the network came back (bob at alice ${atAlice} ms, alice at bob ${atBob} ms)`);
        console.log(`alice saw: ${(await seenEvents(A.page)).map(([e, s]) => `${e}:${s}`).join(' ')}`);
        console.log(`bob saw: ${(await seenEvents(B.page)).map(([e, s]) => `${e}:${s}`).join(' ')}`);
        const events = await B.page.evaluate(() => window.__plenum.timeline().map(([e, at]) => `${e}@${at}`).join(' '));
        console.log(`bob: ${events}`);
        assert.ok(took < 12_000, `took ${took} ms`);
        assert.equal(await ownSid(B.page), bobSid, 'the same participant');
        const timeline = await B.page.evaluate(() => window.__plenum.timeline().map(([e]) => e));
        assert.ok(timeline.includes('resumed'), `resumed, not rejoined: ${timeline.join(', ')}`);
        await B.page.getByTestId('reconnecting-banner').waitFor({ state: 'detached', timeout: 10_000 });
      });

      await step('nobody saw bob leave or join again, and the chat still works', async () => {
        const seen = await seenEvents(A.page);
        const aboutBob = seen.filter(([type, sid]) => sid === bobSid && (type === 'participant_left' || type === 'participant_joined'));
        assert.deepEqual(aboutBob, [['participant_joined', bobSid]], 'only the first join');
        assert.doesNotMatch(await A.page.getByTestId('announcer').innerText(), /verlassen/);
        await B.page.getByTestId('chat-toggle').click();
        await B.page.getByTestId('chat-input').fill('Bin wieder da');
        await B.page.getByTestId('chat-input').press('Enter');
        await A.page.getByTestId('chat-toggle').click();
        await A.page.locator('[data-testid="chat-message"][data-sender="bob"]', { hasText: 'Bin wieder da' }).waitFor({ timeout: 5000 });
      });
    });
  } finally {
    await Promise.all(relays.map((r) => r.close()));
  }
});
