// The frame of a browser test: named steps (a failed critical step skips the rest), diagnostics on failure, and
// cleanup of browsers and server.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, diagnostics } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const e2eDir = resolve(here, '..');
export const webDir = resolve(e2eDir, '..');
export const distDir = join(webDir, 'dist');
export const bin = resolve(webDir, process.env.PLENUM_BIN ?? '../target/debug/plenum');
export const resultsDir = join(e2eDir, 'results');

export function checkPrerequisites() {
  assert.ok(existsSync(join(distDir, 'index.html')), `no ${distDir}/index.html: run npm run build`);
  assert.ok(existsSync(bin), `no server binary at ${bin} (cargo build -p plenum-signaling, or set PLENUM_BIN)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium)`);
}

/**
 * Run `body(ctx)` with ctx = { step, people, setServer, extra }: `step(name, fn, { critical, todo })` is a subtest;
 * participants pushed to `people` and the server given to `setServer` are reported on failure and closed at the end.
 */
export async function withSteps(t, body) {
  const people = [];
  let server = null;
  let failed = false;
  let blocked = false;
  // `todo`: a known failure (the reason says which); it is run and reported but does not fail the test.
  const step = (name, fn, { critical = false, todo = false } = {}) =>
    t.test(name, { skip: blocked ? 'an earlier critical step failed' : false, todo }, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        if (critical) blocked = true;
        throw e;
      }
    });
  try {
    await body({ step, people, setServer: (s) => (server = s) });
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (failed || process.env.PLENUM_E2E_VERBOSE) {
      await mkdir(resultsDir, { recursive: true });
      for (const p of people) {
        console.log(await diagnostics(p));
        await p.page.screenshot({ path: join(resultsDir, `${t.name.replace(/\W+/g, '-').slice(0, 40)}-${p.identity}.png`), timeout: 5000 }).catch(() => undefined);
      }
      if (server) console.log(`===== plenum serve output =====\n${server.log()}`);
    }
    await Promise.all(people.map((p) => p.close()));
    await server?.stop();
  }
}
