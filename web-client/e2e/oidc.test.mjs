// OpenID Connect login in a real browser: a real provider (the npm oidc-provider package, the same script as
// signaling/tests/oidc.rs uses) and `plenum serve` configured for it; the login page shows "Anmelden mit
// Landesportal", the person logs in at the provider (its development login and consent pages) and lands in the
// portal with the role from the claim; a person without a mapped role comes back to the login page with the
// explanation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { freeTcpPort, startServer } from './lib/server.mjs';
import { launchParticipant } from './lib/browser.mjs';
import { bin, checkPrerequisites, distDir, webDir, withSteps } from './lib/harness.mjs';

const providerDir = resolve(webDir, '../signaling/tests/oidc-provider');

/** Start the test provider for a Plenum at `baseUrl`; resolves with { issuer, stop() }. */
async function startProvider(baseUrl) {
  assert.ok(
    existsSync(join(providerDir, 'node_modules/oidc-provider')),
    'the test OpenID provider is not installed: npm --prefix signaling/tests/oidc-provider ci (scripts/test.sh does)',
  );
  const accounts = {
    ada: { email: 'ada@land.example', email_verified: true, name: 'Ada Admin', roles: ['plenum-admin'] },
    nora: { email: 'nora@land.example', email_verified: true, name: 'Nora Nobody', roles: ['unrelated'] },
  };
  const child = spawn('node', ['provider.mjs'], {
    cwd: providerDir,
    env: {
      ...process.env,
      REDIRECT_URI: `${baseUrl}/api/v1/auth/oidc/callback`,
      CLIENT_ID: 'plenum-e2e',
      CLIENT_SECRET: 'plenum-e2e-secret',
      ACCOUNTS: JSON.stringify(accounts),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const issuer = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the provider did not start within 20 s')), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const v = JSON.parse(line);
        if (v.issuer) {
          clearTimeout(timer);
          res(v.issuer);
        }
      } catch {
        // one of its warnings
      }
    });
    child.on('exit', () => rej(new Error('the provider exited')));
  });
  return {
    issuer,
    stop() {
      process.removeListener('exit', killOnExit);
      child.kill('SIGTERM');
    },
  };
}

/** At the provider's pages: log in as `login` and consent. */
async function loginAtProvider(page, login) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  await page.locator('button[type="submit"]').click();
}

test('log in with the OpenID provider from the login page', { timeout: 120_000 }, async (t) => {
  checkPrerequisites();
  const httpPort = await freeTcpPort();
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const provider = await startProvider(baseUrl);
  try {
    await withSteps(t, async ({ step, people, setServer }) => {
      const server = await startServer({
        bin,
        webDir: distDir,
        workers: 1,
        httpPort,
        extraEnv: {
          PLENUM_OIDC_ISSUER: provider.issuer,
          PLENUM_OIDC_CLIENT_ID: 'plenum-e2e',
          PLENUM_OIDC_CLIENT_SECRET: 'plenum-e2e-secret',
          PLENUM_OIDC_DISPLAY_NAME: 'Landesportal',
          PLENUM_OIDC_ADMIN_VALUES: 'plenum-admin',
          PLENUM_OIDC_STAFF_VALUES: 'plenum-staff',
          PLENUM_OIDC_SCOPES: 'profile,email,roles',
        },
      });
      setServer(server);
      const [ada, nora] = await Promise.all([launchParticipant('ada'), launchParticipant('nora')]);
      people.push(ada, nora);

      await step('the button leads to the provider and back, logged in as admin', async () => {
        const page = ada.page;
        await page.goto(`${baseUrl}/meetings`);
        const button = page.getByTestId('login-oidc');
        await button.waitFor();
        assert.equal(await button.innerText(), 'Anmelden mit Landesportal');
        await button.click();
        await page.waitForURL((u) => u.origin === provider.issuer);
        await loginAtProvider(page, 'ada');
        await page.waitForURL(`${baseUrl}/meetings`);
        // The admin's navigation: the role came from the claim.
        await page.getByTestId('nav-users').waitFor();
        await page.getByText('Ada Admin').first().waitFor();
      }, { critical: true });

      await step('a person without a mapped role is sent back with the explanation', async () => {
        const page = nora.page;
        await page.goto(`${baseUrl}/login`);
        await page.getByTestId('login-oidc').click();
        await page.waitForURL((u) => u.origin === provider.issuer);
        await loginAtProvider(page, 'nora');
        await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('oidc_error') === 'oidc_no_role');
        const alert = page.getByRole('alert');
        await alert.waitFor();
        assert.match(await alert.innerText(), /keine Berechtigung für Plenum/);
      });
    });
  } finally {
    provider.stop();
  }
});
