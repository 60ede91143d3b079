// Shared steps of the meeting tests: waiting, joining, reading tiles and audio energy, axe checks.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { clickJoinAndWatchFirstFrame } from './browser.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` (returning { ok, value }) until ok; throws with the last value after `timeoutMs`. */
export async function until(what, fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last.value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last.value)}`);
    await sleep(intervalMs);
  }
}

/** Joined, and (when publishing) the publisher connection is up, so media flows before the next one joins. */
export async function waitJoinedAndPublishing(page, timeout = 15_000) {
  await page.waitForFunction(
    () => window.__plenum?.phase() === 'joined' && window.__plenum.connections()?.publisher?.connectionState === 'connected',
    null,
    { timeout, polling: 50 },
  );
}

/** Open the join link, keep the token's name, click Join and wait until publishing. */
export async function join(p, { url = p.url } = {}) {
  await p.page.goto(url, { timeout: 15_000 });
  await clickJoinAndWatchFirstFrame(p.page);
  await waitJoinedAndPublishing(p.page);
}

export const tile = (identity) => `[data-testid="participant-tile"][data-identity="${identity}"]`;

/** Wait until `identity`'s tile has attribute `attr` = `value`. */
export function waitTileAttr(page, identity, attr, value, timeout = 8000) {
  return page.waitForSelector(`${tile(identity)}[${attr}="${value}"]`, { timeout });
}

/** Video frames of a `<video>` (selector) advance over `ms`: returns { before, after, width }. */
export async function videoAdvances(page, selector, ms = 700) {
  return page.evaluate(
    async ({ sel, ms }) => {
      const v = document.querySelector(sel);
      if (!v) return { before: 0, after: 0, width: 0 };
      const before = v.getVideoPlaybackQuality().totalVideoFrames;
      await new Promise((r) => setTimeout(r, ms));
      return { before, after: v.getVideoPlaybackQuality().totalVideoFrames, width: v.videoWidth };
    },
    { sel: selector, ms },
  );
}

/** Wait until the video at `selector` plays (width > 0, frames advancing). */
export function waitVideoPlaying(page, selector, what, timeoutMs = 10_000) {
  return until(what, async () => {
    const v = await videoAdvances(page, selector, 500);
    return { ok: v.width > 0 && v.after > v.before, value: v };
  }, timeoutMs, 0);
}

/** Received audio energy from `identity` over `ms` (stats totalAudioEnergy delta) and the last audio level. */
export async function audioEnergy(page, identity, ms = 1500) {
  return page.evaluate(
    async ({ identity, ms }) => {
      const pick = async () => {
        const s = await window.__plenum.stats();
        const a = s.inboundAudio.find((x) => x.identity === identity);
        return a ? { energy: a.totalAudioEnergy ?? 0, level: a.audioLevel ?? 0, samples: a.totalSamplesReceived ?? 0 } : null;
      };
      const a = await pick();
      let maxLevel = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        await new Promise((r) => setTimeout(r, 100));
        const x = await pick();
        if (x) maxLevel = Math.max(maxLevel, x.level);
      }
      const b = await pick();
      return a && b ? { energy: b.energy - a.energy, samples: b.samples - a.samples, maxLevel } : null;
    },
    { identity, ms },
  );
}

const require = createRequire(import.meta.url);
let axeSource = null;

/** Run axe-core in the page; returns the serious and critical violations (id, impact, help, targets). */
export async function axeViolations(page) {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The room events a page received, as [type, sid]. */
export const seenEvents = (page) => page.evaluate(() => window.__plenum.seen());

/** The own sid of a joined page. */
export const ownSid = (page) => page.evaluate(() => window.__plenum.sid());
