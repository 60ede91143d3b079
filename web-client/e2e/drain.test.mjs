// Graceful drain in the browser: after SIGTERM a participant sees until when the meeting runs (German banner), a
// new meeting is refused with a clear message, and the server exits once the last participant has left.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, until } from './lib/meeting.mjs';
import { makeJoinUrl, startServer } from './lib/server.mjs';

test('SIGTERM: the meeting is told, a new one is refused, the server exits after the last leaves', { timeout: 90_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 1, extraEnv: { PLENUM_DRAIN_TIMEOUT: '10m' } });
    setServer(server);
    const alice = { identity: 'alice', ...(await launchParticipant('alice')), url: await makeJoinUrl(server, bin, { room: 'drain-running', identity: 'alice', name: 'Alice' }) };
    const bob = { identity: 'bob', ...(await launchParticipant('bob', { locale: 'en-GB' })), url: await makeJoinUrl(server, bin, { room: 'drain-new', identity: 'bob', name: 'Bob' }) };
    people.push(alice, bob);

    await step('alice is in a meeting; the server is ready', async () => {
      await join(alice);
      assert.equal((await fetch(`${server.baseUrl}/readyz`)).status, 200);
    }, { critical: true });

    await step('SIGTERM: alice sees until when the meeting runs; /readyz is 503', async () => {
      server.signal('SIGTERM');
      const banner = alice.page.getByTestId('draining-banner');
      await banner.waitFor({ timeout: 10_000 });
      const text = await banner.textContent();
      assert.match(text, /Server wird neu gestartet.*spätestens um \d\d:\d\d Uhr/, text);
      const ready = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), 'not ready: draining\n');
    }, { critical: true });

    await step('bob cannot start a new meeting and is told why (English UI)', async () => {
      await bob.page.goto(bob.url, { timeout: 15_000 });
      await bob.page.getByTestId('join-button').click();
      const error = bob.page.getByTestId('error-message');
      await error.waitFor({ timeout: 10_000 });
      assert.equal(await error.getAttribute('data-code'), 'draining');
      assert.match(await error.textContent(), /being restarted and starts no new meetings/);
    });

    await step('alice leaves: the server exits by itself', async () => {
      await alice.page.getByTestId('leave-button').click();
      const exited = await Promise.race([server.exited(), new Promise((r) => setTimeout(() => r(null), 15_000))]);
      assert.ok(exited, 'the server exits within 15 s after the last participant left');
      assert.equal(exited.code, 0, JSON.stringify(exited));
      await until('nothing listens any more', async () => {
        try {
          await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(500) });
          return { ok: false, value: 'still answering' };
        } catch {
          return { ok: true };
        }
      }, 5_000);
    });
  });
});
