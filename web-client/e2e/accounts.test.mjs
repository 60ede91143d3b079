// Scheduling in real browsers: an admin (created with `plenum admin create-user`) logs in, schedules a meeting in
// the UI and copies its guest link; the admin joins through the staff link as moderator; a guest opens the guest
// link, gives a name, waits in the lobby, is admitted, and the admin sees her.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, tile, waitJoinedAndPublishing, waitVideoPlaying } from './lib/meeting.mjs';

const PASSWORD = 'ein langes Passwort';

/** `YYYY-MM-DDTHH:MM` in Europe/Berlin (the meetings' default time zone), `minutes` from now. */
function berlinLocal(minutes) {
  const parts = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(Date.now() + minutes * 60_000));
  return parts.replace(' ', 'T');
}

test('an admin schedules a meeting in the UI, a guest joins by the guest link', { timeout: 150_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    const server = await startServer({ bin, webDir: distDir, workers: 2 });
    setServer(server);
    const created = spawnSync(
      bin,
      ['admin', 'create-user', '--email', 'ada@example.org', '--name', 'Ada Admin', '--role', 'admin', '--password-stdin'],
      { env: server.env, input: `${PASSWORD}\n`, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(created.status, 0, `create-user failed: ${created.stdout}\n${created.stderr}`);
    const [admin, guest] = await Promise.all([launchParticipant('ada'), launchParticipant('guest')]);
    people.push(admin, guest);
    await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    let guestLink = null;
    let meetingId = null;

    await step('the admin logs in (German UI) and schedules a meeting', async () => {
      const page = admin.page;
      await page.goto(`${server.baseUrl}/meetings`);
      await page.getByTestId('login-email').waitFor();
      assert.equal(new URL(page.url()).pathname, '/login', 'not logged in: the login page');
      assert.equal(await page.getAttribute('html', 'lang'), 'de');
      await page.getByTestId('login-email').fill('ada@example.org');
      await page.getByTestId('login-password').fill('falsch falsch falsch');
      await page.getByTestId('login-submit').click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /falsch/);
      await page.getByTestId('login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('new-meeting').click();
      await page.getByTestId('meeting-title').fill('Sprechstunde');
      // An end before the start is refused with a field message.
      await page.getByTestId('meeting-start').fill(berlinLocal(-5));
      await page.getByTestId('meeting-end').fill(berlinLocal(-10));
      await page.getByTestId('meeting-save').click();
      await page.getByText('the end must be after the start').waitFor();
      await page.getByTestId('meeting-end').fill(berlinLocal(60));
      // The lobby stays at its default: guests wait.
      assert.equal(await page.getByLabel('Warteraum').inputValue(), 'guests');
      await page.getByTestId('meeting-save').click();
      const row = page.getByTestId('meeting-row').filter({ hasText: 'Sprechstunde' });
      await row.waitFor();
      meetingId = await row.getAttribute('data-meeting-id');
      assert.ok(meetingId);
    }, { critical: true });

    await step('the admin copies the guest link; the invitation downloads', async () => {
      const page = admin.page;
      await page.getByTestId('copy-guest-link').click();
      await page.getByTestId('copy-guest-link').getByText('Kopiert').waitFor();
      guestLink = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(guestLink, await page.getByTestId('guest-link').inputValue());
      assert.match(guestLink, new RegExp(`^${server.baseUrl}/g/${meetingId}/[a-z0-9]+$`));
      const ics = await page.evaluate(async (id) => (await fetch(`/api/v1/meetings/${id}/invite.ics`)).text(), meetingId);
      assert.match(ics, /BEGIN:VEVENT/);
      assert.match(ics, /SUMMARY:Sprechstunde/);
    }, { critical: true });

    await step('the admin joins by the staff link (moderator); the guest opens the guest link, names herself, waits in the lobby and is admitted', async () => {
      await admin.page.goto(`${server.baseUrl}/m/${meetingId}`);
      await admin.page.waitForURL(new RegExp(`/r/${meetingId}#token=`));
      await join(admin, { url: admin.page.url() });
      const page = guest.page;
      await page.goto(guestLink);
      await page.getByTestId('guest-meeting-title').waitFor();
      assert.equal(await page.getByTestId('guest-meeting-title').innerText(), 'Sprechstunde');
      await page.getByTestId('guest-name').fill('Gabi Gast');
      await page.getByTestId('guest-continue').click();
      await page.waitForURL(new RegExp(`/r/${meetingId}#token=`));
      await page.getByTestId('join-button').waitFor();
      await page.waitForFunction(() => !document.querySelector('[data-testid="join-button"]').disabled);
      await page.getByTestId('join-button').click();
      await page.getByTestId('lobby-screen').waitFor({ timeout: 10_000 });
      const entry = admin.page.getByTestId('lobby-entry');
      await entry.waitFor({ timeout: 10_000 });
      assert.match(await entry.innerText(), /Gabi Gast/);
      await admin.page.getByTestId('lobby-admit').click();
      await waitJoinedAndPublishing(page);
      const guestIdentity = await page.evaluate(() => JSON.parse(atob(location.hash.split('token=')[1].split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub);
      assert.match(guestIdentity, /^guest-/);
      await waitVideoPlaying(admin.page, `${tile(guestIdentity)} video`, 'the guest\'s video at the admin');
    }, { critical: true });

    await step('the audit log shows the admin\'s meeting', async () => {
      const page = admin.page;
      const log = await page.evaluate(async () => (await fetch('/api/v1/audit')).json());
      assert.ok(log.some((e) => e.action === 'meeting.created' && e.actor_name === 'Ada Admin' && e.target_name === 'Sprechstunde'), JSON.stringify(log));
    });
  });
});
