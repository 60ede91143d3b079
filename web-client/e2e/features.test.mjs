// The meeting experience in real browsers: language, accessibility, chat with history, hands, mute, camera off,
// screen sharing and keyboard operation. One server; alice (moderator) and bob meet, carol joins late.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeJoinUrl, startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { audioEnergy, axeViolations, join, tile, until, waitTileAttr, waitVideoPlaying } from './lib/meeting.mjs';

const ROOM = 'features';

test('meeting features: language, a11y, chat, hands, mute, camera, screen share, keyboard', { timeout: 150_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 2 });
    setServer(server);
    const specs = [
      { identity: 'alice', name: 'Alice Adler', moderator: true },
      { identity: 'bob', name: 'Bob Bäcker' },
      { identity: 'carol', name: 'Carol Claßen' },
    ];
    const urls = await Promise.all(specs.map((s) => makeJoinUrl(server, bin, { room: ROOM, ...s })));
    const [alice, bob] = await Promise.all(specs.slice(0, 2).map((s) => launchParticipant(s.identity)));
    people.push({ ...alice, url: urls[0] }, { ...bob, url: urls[1] });
    const [A, B] = people;
    // Nothing may leave the Plenum server: every request of alice's page goes to it.
    const foreign = [];
    A.page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(server.baseUrl) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
    });

    await step('pre-join: German by default, English selectable, devices, no serious axe violations', async () => {
      const page = A.page;
      await page.goto(A.url);
      await page.getByTestId('join-button').waitFor();
      await page.waitForFunction(() => !document.querySelector('[data-testid="join-button"]').disabled);
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
      assert.equal((await page.getByTestId('join-button').innerText()).trim(), 'Teilnehmen');
      assert.ok(await page.getByTestId('camera-select').isVisible(), 'camera choice');
      assert.ok(await page.getByTestId('mic-select').isVisible(), 'microphone choice');
      assert.ok(await page.getByTestId('join-muted').isVisible(), 'join muted option');
      assert.deepEqual(await axeViolations(page), [], 'pre-join page');
      await page.getByTestId('lang-en').click();
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal((await page.getByTestId('join-button').innerText()).trim(), 'Join');
      await page.getByTestId('lang-de').click();
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
    }, { critical: true });

    await step('alice and bob join and see each other', async () => {
      await join(A);
      await join(B);
      await waitVideoPlaying(A.page, `${tile('bob')} video`, 'bob\'s video at alice');
      await waitVideoPlaying(B.page, `${tile('alice')} video`, 'alice\'s video at bob');
      // The connection quality of each participant comes from the own receive statistics.
      await A.page.waitForSelector(`${tile('bob')} [data-testid="quality"][data-quality="good"]`, { timeout: 8000 });
    }, { critical: true });

    await step('meeting page (with the side panels open) has no serious axe violations', async () => {
      assert.deepEqual(await axeViolations(A.page), [], 'meeting page');
      for (const panel of ['people', 'chat', 'settings']) {
        await A.page.getByTestId(`${panel}-toggle`).click();
        await A.page.getByTestId(`panel-${panel}`).waitFor();
        assert.deepEqual(await axeViolations(A.page), [], `meeting page with the ${panel} panel`);
      }
      await A.page.getByTestId('settings-toggle').click();
      await A.page.getByTestId('panel-settings').waitFor({ state: 'detached' });
    });

    await step('chat between alice and bob (Enter sends)', async () => {
      await A.page.getByTestId('chat-toggle').click();
      await A.page.getByTestId('chat-input').fill('Guten Morgen, Bob!');
      await A.page.getByTestId('chat-input').press('Enter');
      await A.page.locator('[data-testid="chat-message"]', { hasText: 'Guten Morgen, Bob!' }).waitFor({ timeout: 5000 });
      assert.equal(await A.page.getByTestId('chat-input').inputValue(), '', 'the field is cleared');
      await B.page.getByTestId('chat-unread').waitFor({ timeout: 5000 });
      await B.page.getByTestId('chat-toggle').click();
      await B.page.locator('[data-testid="chat-message"][data-sender="alice"]', { hasText: 'Guten Morgen, Bob!' }).waitFor({ timeout: 5000 });
      await B.page.getByTestId('chat-input').fill('Moin Alice');
      await B.page.keyboard.press('Enter');
      await A.page.locator('[data-testid="chat-message"][data-sender="bob"]', { hasText: 'Moin Alice' }).waitFor({ timeout: 5000 });
      const announced = await A.page.getByTestId('announcer').innerText();
      assert.match(announced, /Moin Alice/, 'the live region announces the message');
      await A.page.getByTestId('chat-toggle').click();
      await B.page.getByTestId('chat-toggle').click();
    });

    await step('hands: raised in order, seen by everyone, a moderator lowers one', async () => {
      await B.page.getByTestId('raise-hand').click();
      await waitTileAttr(A.page, 'bob', 'data-hand-raised', 'true');
      await A.page.getByTestId('raise-hand').click();
      await waitTileAttr(B.page, 'alice', 'data-hand-raised', 'true');
      await B.page.getByTestId('people-toggle').click();
      const order = await until('bob\'s hand queue', async () => {
        const names = await B.page.locator('[data-testid="hand-entry"] .p-name').allInnerTexts();
        return { ok: names.length === 2, value: names };
      }, 5000);
      assert.match(order[0], /Bob/, `bob raised first: ${order}`);
      assert.match(order[1], /Alice/);
      assert.equal(await B.page.getByTestId('lower-hand').count(), 0, 'bob is no moderator: no lowering of others');
      // alice (moderator) lowers bob's hand.
      await A.page.getByTestId('people-toggle').click();
      await A.page.locator('[data-testid="hand-entry"]', { hasText: 'Bob' }).getByTestId('lower-hand').click();
      await waitTileAttr(A.page, 'bob', 'data-hand-raised', 'false');
      await B.page.waitForFunction(() => document.querySelector('[data-testid="raise-hand"]').getAttribute('aria-pressed') === 'false');
      await until('bob hears who lowered it', async () => {
        const text = await B.page.getByTestId('announcer').innerText();
        return { ok: /Alice Adler/.test(text), value: text };
      }, 5000);
      await A.page.getByTestId('raise-hand').click();
      await waitTileAttr(B.page, 'alice', 'data-hand-raised', 'false');
      await A.page.getByTestId('people-toggle').click();
      await B.page.getByTestId('people-toggle').click();
    });

    await step('mute: the sound alice receives from bob goes silent, and comes back', async () => {
      const before = await until('bob audible at alice', async () => {
        const e = await audioEnergy(A.page, 'bob');
        return { ok: !!e && e.energy > 0 && e.samples > 0, value: e };
      }, 8000, 0);
      await B.page.getByTestId('mic-toggle').click();
      await waitTileAttr(A.page, 'bob', 'data-muted', 'true');
      await until('bob silent at alice', async () => {
        const e = await audioEnergy(A.page, 'bob');
        // Packets keep coming (samples grow), but they carry silence.
        return { ok: !!e && e.samples > 0 && e.energy < before.energy * 0.01 && e.maxLevel < 0.001, value: { before, e } };
      }, 8000, 0);
      await B.page.getByTestId('mic-toggle').click();
      await waitTileAttr(A.page, 'bob', 'data-muted', 'false');
      await until('bob audible again', async () => {
        const e = await audioEnergy(A.page, 'bob');
        return { ok: !!e && e.energy > before.energy * 0.1, value: e };
      }, 8000, 0);
    });

    await step('camera off: alice sees bob\'s avatar and name; camera on again brings the video back', async () => {
      await B.page.getByTestId('camera-toggle').click();
      await waitTileAttr(A.page, 'bob', 'data-camera-off', 'true');
      const avatar = A.page.locator(`${tile('bob')} [data-testid="tile-avatar"]`);
      await avatar.waitFor({ timeout: 5000 });
      assert.equal((await avatar.innerText()).trim(), 'BB', 'initials');
      assert.match(await A.page.locator(`${tile('bob')} .name`).innerText(), /Bob Bäcker/);
      assert.equal(await A.page.locator(`${tile('bob')} video`).evaluate((v) => getComputedStyle(v).visibility), 'hidden');
      await B.page.getByTestId('camera-toggle').click();
      await waitTileAttr(A.page, 'bob', 'data-camera-off', 'false');
      await waitVideoPlaying(A.page, `${tile('bob')} video`, 'bob\'s video after camera on');
    });

    await step('screen share: alice sees bob\'s screen large; it goes away when bob stops', async () => {
      await B.page.getByTestId('screen-share-toggle').click();
      await B.page.waitForFunction(() => document.querySelector('[data-testid="screen-share-toggle"]').getAttribute('aria-pressed') === 'true');
      const view = '[data-testid="screen-share-view"][data-sharer="bob"]';
      await A.page.waitForSelector(view, { timeout: 10_000 });
      await waitVideoPlaying(A.page, `${view} video`, 'bob\'s screen at alice');
      const box = await A.page.locator(view).boundingBox();
      const viewport = A.page.viewportSize();
      assert.ok(box.width >= viewport.width * 0.5 && box.height >= viewport.height * 0.4, `large: ${JSON.stringify(box)}`);
      // The camera tile is still there beside it.
      assert.ok(await A.page.locator(tile('bob')).isVisible());
      await B.page.getByTestId('screen-share-toggle').click();
      await A.page.waitForSelector(view, { state: 'detached', timeout: 10_000 });
    });

    await step('keyboard: shortcuts M and H, and Tab + Space on the controls with visible focus', async () => {
      const page = A.page;
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('m');
      await waitTileAttr(B.page, 'alice', 'data-muted', 'true');
      await page.keyboard.press('m');
      await waitTileAttr(B.page, 'alice', 'data-muted', 'false');
      await page.keyboard.press('h');
      await waitTileAttr(B.page, 'alice', 'data-hand-raised', 'true');
      await page.keyboard.press('h');
      await waitTileAttr(B.page, 'alice', 'data-hand-raised', 'false');
      // Tab to the camera toggle and operate it with Space.
      let found = false;
      for (let i = 0; i < 40 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'camera-toggle');
      }
      assert.ok(found, 'camera toggle reachable by Tab');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none', 'visible focus');
      await page.keyboard.press('Space');
      await waitTileAttr(B.page, 'alice', 'data-camera-off', 'true');
      await page.keyboard.press('Enter');
      await waitTileAttr(B.page, 'alice', 'data-camera-off', 'false');
      // The side panels open by keyboard and close with Escape.
      await page.keyboard.press('c');
      await page.getByTestId('panel-chat').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'chat-input', 'focus goes to the chat input');
      await page.keyboard.press('m');
      assert.equal(await page.getByTestId('mic-toggle').getAttribute('aria-pressed'), 'false', 'typing is no shortcut');
      await page.keyboard.press('Escape');
      await page.getByTestId('panel-chat').waitFor({ state: 'detached' });
      // L: speaker view, bob large; L again: the grid.
      await page.keyboard.press('l');
      await page.waitForSelector('.stage-speaker .focus-tile [data-identity="bob"]', { timeout: 5000 });
      await page.keyboard.press('l');
      await page.waitForSelector('.stage-speaker', { state: 'detached', timeout: 5000 });
    });

    await step('a late joiner on a small phone screen: pages of tiles, only the shown ones sized, chat history, language', async () => {
      const carol = await launchParticipant('carol', { viewport: { width: 360, height: 520 } });
      people.push({ ...carol, url: urls[2] });
      const C = people[2];
      await join(C);
      // Two others, room for one beside the own tile: two pages; only the shown participant's video is wanted.
      await C.page.getByTestId('page-label').waitFor({ timeout: 5000 });
      assert.match(await C.page.getByTestId('page-label').innerText(), /Seite 1 von 2/);
      const firstPage = await C.page.evaluate(() => window.__plenum.visible());
      assert.equal(firstPage.length, 1, `one remote tile shown: ${firstPage}`);
      await C.page.getByRole('button', { name: 'Nächste Seite' }).click();
      await until('the second page', async () => {
        const v = await C.page.evaluate(() => window.__plenum.visible());
        return { ok: v.length === 1 && v[0] !== firstPage[0], value: v };
      }, 3000);
      const overflow = await C.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow} px too wide)`);
      await C.page.getByTestId('chat-toggle').click();
      const texts = await until('carol\'s chat history', async () => {
        const all = await C.page.getByTestId('chat-message').allInnerTexts();
        return { ok: all.length >= 2, value: all };
      }, 5000);
      assert.match(texts[0], /Guten Morgen, Bob!/);
      assert.match(texts[1], /Moin Alice/);
      // On a phone the panel covers the screen: Escape closes it.
      await C.page.keyboard.press('Escape');
      await C.page.getByTestId('panel-chat').waitFor({ state: 'detached' });
      await C.page.getByTestId('settings-toggle').click();
      await C.page.getByTestId('lang-en').click();
      assert.equal(await C.page.getAttribute('html', 'lang'), 'en');
      assert.equal(await C.page.getByTestId('mic-toggle').getAttribute('aria-label'), 'Mute');
      await C.page.getByTestId('lang-de').click();
      assert.equal(await C.page.getAttribute('html', 'lang'), 'de');
      assert.equal(await C.page.getByTestId('mic-toggle').getAttribute('aria-label'), 'Stummschalten');
      await C.page.keyboard.press('Escape');
      await C.page.getByTestId('panel-settings').waitFor({ state: 'detached' });
      const shown = await C.page.locator('[data-testid="participant-tile"]').getAttribute('data-identity');
      await waitVideoPlaying(C.page, `${tile(shown)} video`, 'carol sees the participant on her page');
    });

    await step('refused camera and microphone: a clear message, and a listen-only join', async () => {
      const dora = await launchParticipant('dora', { denyMedia: true });
      const url = await makeJoinUrl(server, bin, { room: ROOM, identity: 'dora', name: 'Dora Dietz' });
      people.push({ ...dora, url });
      const D = people[3];
      await D.page.goto(url);
      await D.page.getByTestId('media-problem').first().waitFor({ timeout: 10_000 });
      assert.match(await D.page.getByTestId('media-problem').first().innerText(), /verweigert/);
      const button = D.page.getByTestId('join-button');
      assert.equal((await button.innerText()).trim(), 'Nur zuhörend teilnehmen');
      await button.click();
      await D.page.waitForFunction(() => window.__plenum?.phase() === 'joined', null, { timeout: 10_000 });
      await waitTileAttr(A.page, 'dora', 'data-muted', 'true');
      await waitTileAttr(A.page, 'dora', 'data-camera-off', 'true');
      await waitVideoPlaying(D.page, `${tile('alice')} video`, 'dora sees alice');
      assert.deepEqual(foreign, [], 'no request left the server');
    });
  });
});
