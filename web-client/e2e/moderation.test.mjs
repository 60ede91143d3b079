// The lobby and moderation in real browsers: a guest (lobby token) waits in the lobby until the moderator admits
// them; they see each other; the moderator mutes the guest (the SFU stops forwarding: no more audio packets reach
// the moderator, even from a client that ignores the mute and keeps sending) and removes them with a ban (the guest is told, and rejoining is refused).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { clickJoinAndWatchFirstFrame, launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, ownSid, sleep, tile, until, waitJoinedAndPublishing, waitTileAttr, waitVideoPlaying } from './lib/meeting.mjs';

const ROOM = 'moderation';

/** Audio packets `page` received from `identity` so far (inbound-rtp packetsReceived). */
async function audioPackets(page, identity) {
  return page.evaluate(async (identity) => {
    const s = await window.__plenum.stats();
    return s.inboundAudio.find((x) => x.identity === identity)?.packetsReceived ?? null;
  }, identity);
}

test('lobby, mute enforced by the SFU, remove with ban', { timeout: 120_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 2 });
    setServer(server);
    const modUrl = await makeJoinUrl(server, bin, { room: ROOM, identity: 'chair', name: 'Maria Moderatorin', moderator: true });
    const guestUrl = await makeJoinUrl(server, bin, { room: ROOM, identity: 'guest', name: 'Gustav Gast', lobby: true });
    const [mod, guest] = await Promise.all(['chair', 'guest'].map((id) => launchParticipant(id)));
    people.push({ ...mod, identity: 'chair', url: modUrl }, { ...guest, identity: 'guest', url: guestUrl });
    const [M, G] = people;

    await step('the guest waits in the lobby; the moderator sees them and admits them', async () => {
      await join(M);
      await G.page.goto(G.url, { timeout: 15_000 });
      await clickJoinAndWatchFirstFrame(G.page);
      await G.page.getByTestId('lobby-screen').waitFor({ timeout: 10_000 });
      assert.equal(await G.page.getByTestId('lobby-status').getAttribute('data-moderators'), 'yes');
      assert.equal(await G.page.locator('[data-testid="participant-tile"]').count(), 0, 'nothing of the meeting in the lobby');
      const entry = M.page.getByTestId('lobby-entry');
      await entry.waitFor({ timeout: 10_000 });
      assert.match(await entry.innerText(), /Gustav Gast/);
      await M.page.getByTestId('lobby-admit').click();
      await waitJoinedAndPublishing(G.page);
      await M.page.getByTestId('lobby-panel').waitFor({ state: 'detached', timeout: 5000 });
    }, { critical: true });

    await step('they see each other', async () => {
      await waitVideoPlaying(M.page, `${tile('guest')} video`, 'the guest\'s video at the moderator');
      await waitVideoPlaying(G.page, `${tile('chair')} video`, 'the moderator\'s video at the guest');
    }, { critical: true });

    const guestSid = await ownSid(G.page);
    const entry = `[data-testid="participant-entry"][data-sid="${guestSid}"]`;

    await step('the moderator mutes the guest: no more audio packets of the guest reach the moderator', async () => {
      await until('guest audio flowing at the moderator', async () => {
        const a = await audioPackets(M.page, 'guest');
        await sleep(500);
        const b = await audioPackets(M.page, 'guest');
        return { ok: a !== null && b > a + 5, value: { a, b } };
      }, 10_000, 0);
      // The guest's own mute: the client stops sending (no silence packets).
      await G.page.getByTestId('mic-toggle').click();
      await waitTileAttr(M.page, 'guest', 'data-muted', 'true');
      await until('no guest packets while self-muted', async () => {
        const a = await audioPackets(M.page, 'guest');
        await sleep(1000);
        const b = await audioPackets(M.page, 'guest');
        return { ok: a !== null && b - a <= 1, value: { a, b } };
      }, 5000, 0);
      await G.page.getByTestId('mic-toggle').click();
      await waitTileAttr(M.page, 'guest', 'data-muted', 'false');
      await M.page.getByTestId('people-toggle').click();
      await M.page.locator(`${entry} [data-testid="mod-mute"]`).click();
      await waitTileAttr(M.page, 'guest', 'data-muted', 'true');
      await G.page.locator('.notice', { hasText: 'stummgeschaltet' }).waitFor({ timeout: 5000 });
      // A client that ignores the mute keeps sending: the SFU must stop it. The control: the guest's sender sends.
      await G.page.evaluate(() => window.__plenum.ignoreMute());
      await until('the guest sends although muted', async () => {
        const a = await G.page.evaluate(() => window.__plenum.micPacketsSent());
        await sleep(1000);
        const b = await G.page.evaluate(() => window.__plenum.micPacketsSent());
        return { ok: a !== null && b > a + 20, value: { a, b } };
      }, 5000, 0);
      await until('no guest audio packets at the moderator', async () => {
        const a = await audioPackets(M.page, 'guest');
        await sleep(1000);
        const b = await audioPackets(M.page, 'guest');
        return { ok: a !== null && b - a <= 1, value: { a, b } };
      }, 8000, 0);
    });

    await step('the moderator removes the guest with a ban: they are told, and cannot rejoin', async () => {
      await M.page.locator(`${entry} [data-testid="mod-ban"]`).click();
      const message = G.page.getByTestId('error-message');
      await message.waitFor({ timeout: 5000 });
      assert.equal(await message.getAttribute('data-code'), 'moderated_ban');
      await M.page.locator(tile('guest')).waitFor({ state: 'detached', timeout: 5000 });
      await G.page.goto('about:blank');
      await G.page.goto(G.url, { timeout: 15_000 });
      await clickJoinAndWatchFirstFrame(G.page);
      const again = G.page.getByTestId('error-message');
      await again.waitFor({ timeout: 10_000 });
      assert.equal(await again.getAttribute('data-code'), 'banned');
    });
  });
});
