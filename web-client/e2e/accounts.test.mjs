// Scheduling in real browsers: an admin (created with `plenum admin create-user`) logs in, schedules a meeting in
// the UI and copies its guest link; the admin joins through the staff link as moderator; a guest opens the guest
// link, gives a name, waits in the lobby, is admitted, and the admin sees her. The admin bans her; after a server
// restart her guest link still refuses her; the admin ends the meeting for all and its links say so. Then the
// admin edits accounts in the user form: her own (refused: no self-demotion, no self-disabling), another one
// (renamed and disabled: that person cannot log in), and a racing change (409, the form says so).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, ownSid, tile, waitJoinedAndPublishing, waitVideoPlaying } from './lib/meeting.mjs';

const PASSWORD = 'ein langes Passwort';

/** `YYYY-MM-DDTHH:MM` in Europe/Berlin (the meetings' default time zone), `minutes` from now. */
function berlinLocal(minutes) {
  const parts = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(Date.now() + minutes * 60_000));
  return parts.replace(' ', 'T');
}

test('an admin schedules a meeting in the UI, a guest joins by the guest link', { timeout: 240_000 }, async (t) => {
  checkPrerequisites();
  await withSteps(t, async ({ step, people, setServer }) => {
    // No drain on SIGTERM: the restart below is a plain stop and start on the same data directory.
    const extraEnv = { PLENUM_DRAIN_TIMEOUT: '0s' };
    let server = await startServer({ bin, webDir: distDir, workers: 2, extraEnv });
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
      // The lobby stays at its default: guests wait. The time zone is chosen from a list, Berlin first.
      assert.equal(await page.getByLabel('Warteraum').inputValue(), 'guests');
      const zones = page.getByTestId('meeting-time-zone');
      assert.equal(await zones.inputValue(), 'Europe/Berlin');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="meeting-time-zone"] option').length > 300);
      assert.equal(await zones.locator('option').first().getAttribute('value'), 'Europe/Berlin');
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

    await step('the admin bans the guest; after a server restart her guest link still refuses her', async () => {
      const guestSid = await ownSid(guest.page);
      await admin.page.getByTestId('people-toggle').click();
      await admin.page.locator(`[data-testid="participant-entry"][data-sid="${guestSid}"] [data-testid="mod-ban"]`).click();
      const told = guest.page.getByTestId('error-message');
      await told.waitFor({ timeout: 10_000 });
      assert.equal(await told.getAttribute('data-code'), 'moderated_ban');
      const { dataDir, httpPort } = server;
      await server.stop({ keepData: true });
      server = await startServer({ bin, webDir: distDir, workers: 2, extraEnv, dataDir, httpPort });
      setServer(server);
      const page = guest.page;
      await page.goto(guestLink);
      await page.getByTestId('guest-name').fill('Gabi Gast');
      await page.getByTestId('guest-continue').click();
      const problem = page.getByTestId('join-problem');
      await problem.waitFor({ timeout: 10_000 });
      assert.equal(await problem.innerText(), 'Die Moderation hat Sie aus dieser Besprechung entfernt. Sie können nicht erneut teilnehmen.');
      assert.equal(new URL(page.url()).pathname, new URL(guestLink).pathname, 'no join token for her');
    });

    await step('the admin ends the meeting for all: the staff link and the meeting list say it ended', async () => {
      const page = admin.page;
      await page.goto(`${server.baseUrl}/m/${meetingId}`);
      await page.waitForURL(new RegExp(`/r/${meetingId}#token=`));
      await join(admin, { url: page.url() });
      page.once('dialog', (d) => d.accept());
      await page.getByTestId('people-toggle').click();
      await page.getByTestId('mod-end').click();
      const told = page.getByTestId('error-message');
      await told.waitFor({ timeout: 10_000 });
      assert.equal(await told.getAttribute('data-code'), 'meeting_ended');
      assert.equal(await told.innerText(), 'Die Moderation hat die Besprechung für alle beendet.');
      await page.goto(`${server.baseUrl}/m/${meetingId}`);
      const problem = page.getByTestId('join-problem');
      await problem.waitFor({ timeout: 10_000 });
      assert.equal(await problem.innerText(), 'Diese Besprechung wurde von einer Moderatorin oder einem Moderator beendet.');
      await page.goto(`${server.baseUrl}/meetings`);
      const row = page.getByTestId('meeting-row').filter({ hasText: 'Sprechstunde' });
      await row.getByTestId('meeting-status').waitFor();
      assert.match(await row.getByTestId('meeting-status').innerText(), /beendet/);
    });

    await step('the admin edits accounts in the user form', async () => {
      const page = admin.page;
      // Another account, made through the API as the page would.
      const sam = await page.evaluate(async () => {
        const csrf = document.cookie.split('; ').find((c) => c.startsWith('plenum_csrf=')).split('=')[1];
        const res = await fetch('/api/v1/users', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify({ email: 'sam@example.org', name: 'Sam Staff', role: 'staff', password: 'ein anderes langes Passwort' }),
        });
        return res.json();
      });
      assert.ok(sam.id, JSON.stringify(sam));
      await page.getByTestId('nav-users').click();
      const rowOf = (email) => page.locator(`[data-testid="user-row"][data-user-email="${email}"]`);
      // Her own account: neither without the admin role nor disabled; the form names both fields.
      await rowOf('ada@example.org').getByTestId('user-edit').click();
      await page.getByTestId('user-role').selectOption('staff');
      await page.getByTestId('user-disabled').check();
      await page.getByTestId('user-save').click();
      await page.getByTestId('user-error-disabled').waitFor();
      assert.equal(await page.getByTestId('user-error-disabled').innerText(), 'you cannot disable your own account');
      assert.equal(await page.getByTestId('user-error-role').innerText(), 'you cannot take the admin role from yourself');
      await page.getByRole('button', { name: 'Abbrechen' }).click();
      // Sam: renamed and disabled.
      await rowOf('sam@example.org').getByTestId('user-edit').click();
      await page.getByTestId('user-name').fill('Sam Sachbearbeiter');
      await page.getByTestId('user-disabled').check();
      await page.getByTestId('user-save').click();
      await rowOf('sam@example.org').filter({ hasText: 'Sam Sachbearbeiter' }).waitFor();
      assert.equal(await rowOf('sam@example.org').getAttribute('data-disabled'), 'true');
      // A racing change: someone else saves Sam while the form is open; saving the form is refused.
      await rowOf('sam@example.org').getByTestId('user-edit').click();
      const raced = await page.evaluate(async (id) => {
        const csrf = document.cookie.split('; ').find((c) => c.startsWith('plenum_csrf=')).split('=')[1];
        const now = await (await fetch(`/api/v1/users/${id}`)).json();
        const res = await fetch(`/api/v1/users/${id}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify({ ...now, name: 'Sam (anderer Admin)' }),
        });
        return res.status;
      }, sam.id);
      assert.equal(raced, 200);
      await page.getByTestId('user-name').fill('Sam S.');
      await page.getByTestId('user-save').click();
      const conflict = page.getByTestId('user-form-error');
      await conflict.waitFor();
      assert.equal(await conflict.innerText(), 'Jemand anderes hat das inzwischen geändert. Bitte neu laden.');
      // Disabled: Sam cannot log in, and the login page says why.
      const other = guest.page;
      await other.goto(`${server.baseUrl}/login`);
      await other.getByTestId('login-email').fill('sam@example.org');
      await other.getByTestId('login-password').fill('ein anderes langes Passwort');
      await other.getByTestId('login-submit').click();
      await other.getByRole('alert').waitFor();
      assert.equal(await other.getByRole('alert').innerText(), 'Ihr Konto wurde von der Administration deaktiviert.');
    });
  });
});
