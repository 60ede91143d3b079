// One headless Chromium (Debian's /usr/bin/chromium, fake camera and microphone) per participant.

import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.PLENUM_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launch a participant's browser; returns { identity, context, page, console(), close() }. `initScript` runs in
 * the page before the app (e.g. to route media through a test relay); `preferences` are written into the fresh
 * profile's Default/Preferences (e.g. `{ webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } }`);
 * `executablePath` replaces Chromium, e.g. by a launcher that starts it in a network namespace.
 */
export async function launchParticipant(
  identity,
  { initScript = null, locale = 'de-DE', viewport = { width: 1280, height: 800 }, denyMedia = false, extraArgs = [], preferences = null, executablePath = CHROMIUM } = {},
) {
  const profile = await mkdtemp(join(tmpdir(), `plenum-e2e-${identity}-`));
  if (preferences) {
    await mkdir(join(profile, 'Default'), { recursive: true });
    await writeFile(join(profile, 'Default', 'Preferences'), JSON.stringify(preferences));
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    // Without the fake permission UI, headless Chromium refuses camera and microphone.
    args: [...(denyMedia ? ARGS.filter((a) => a !== '--use-fake-ui-for-media-stream') : ARGS), ...extraArgs],
    viewport,
    locale, // German staff: the UI starts in German
    timeout: 30_000,
  });
  if (initScript) await context.addInitScript(initScript);
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const lines = [];
  page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
  return {
    identity,
    context,
    page,
    console: () => lines.join('\n'),
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Epoch milliseconds inside the page (comparable across browsers on one machine). */
export const PAGE_NOW = 'performance.timeOrigin + performance.now()';

/**
 * Arm a watcher in the page that records (epoch ms) the first frame of any remote video, using
 * requestVideoFrameCallback plus a frame-count poll, then click Join and record the click time.
 */
export async function clickJoinAndWatchFirstFrame(page) {
  await page.evaluate(() => {
    const w = window;
    w.__e2e = { clickAt: null, firstFrameAt: null };
    const seen = new WeakSet();
    const mark = () => {
      if (w.__e2e.firstFrameAt === null) w.__e2e.firstFrameAt = performance.timeOrigin + performance.now();
    };
    const poll = () => {
      for (const v of document.querySelectorAll('[data-testid="participant-tile"] video')) {
        if (!seen.has(v)) {
          seen.add(v);
          if ('requestVideoFrameCallback' in v) v.requestVideoFrameCallback(() => mark());
        }
        if (v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0) mark();
      }
      if (w.__e2e.firstFrameAt === null) setTimeout(poll, 5);
    };
    poll();
  });
  const button = page.getByTestId('join-button');
  await button.waitFor({ state: 'visible' });
  await page.waitForFunction(() => {
    const b = document.querySelector('[data-testid="join-button"]');
    return b && !b.disabled;
  });
  await page.evaluate(() => {
    window.__e2e.clickAt = performance.timeOrigin + performance.now();
  });
  await button.click();
}

/** Identities of the remote tiles shown, sorted. */
export function tileIdentities(page) {
  return page.$$eval('[data-testid="participant-tile"]', (els) => els.map((e) => e.getAttribute('data-identity')).sort());
}

/**
 * Wait until the tile of `identity` plays video: videoWidth > 0 and the frame count advancing over ~1 s. A video the
 * SFU pauses for a moment (congestion control ramping up on a loaded machine) gets until `timeoutMs` to come back.
 */
export async function assertVideoPlaying(page, identity, timeoutMs = 15_000) {
  const sel = `[data-testid="participant-tile"][data-identity="${identity}"] video`;
  const deadline = Date.now() + timeoutMs;
  await page.waitForFunction(
    (s) => {
      const v = document.querySelector(s);
      return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
    },
    sel,
    { timeout: timeoutMs, polling: 50 },
  );
  for (;;) {
    const sample = await page.evaluate(async (s) => {
      const v = document.querySelector(s);
      const f0 = v.getVideoPlaybackQuality().totalVideoFrames;
      await new Promise((r) => setTimeout(r, 1000));
      const f1 = v.getVideoPlaybackQuality().totalVideoFrames;
      return { framesBefore: f0, framesAfter: f1, width: v.videoWidth, height: v.videoHeight, paused: v.paused };
    }, sel);
    if (sample.framesAfter > sample.framesBefore || Date.now() > deadline) return sample;
  }
}

/** Inbound audio per remote identity, sampled twice 1 s apart. */
export async function sampleAudio(page) {
  return page.evaluate(async () => {
    const pick = (s) =>
      Object.fromEntries(s.inboundAudio.map((a) => [a.identity ?? a.trackIdentifier, { packets: a.packetsReceived, samples: a.totalSamplesReceived }]));
    const a = pick(await window.__plenum.stats());
    await new Promise((r) => setTimeout(r, 1000));
    const b = pick(await window.__plenum.stats());
    return { before: a, after: b };
  });
}

/** What helps to understand a failure: console, phase, connection states and SDP, inbound stats. */
export async function diagnostics(p) {
  let state = null;
  try {
    state = await p.page.evaluate(async () => ({
      url: location.pathname,
      phase: window.__plenum?.phase(),
      seen: window.__plenum?.seen?.().map(([t, s]) => `${t}:${s}`).join(' '),
      timeline: window.__plenum?.timeline?.().map(([e, t]) => `${e}@${t}`).join(' '),
      connections: window.__plenum?.connections(),
      stats: await window.__plenum?.stats(),
      tiles: [...document.querySelectorAll('[data-testid="participant-tile"]')].map((t) => {
        const v = t.querySelector('video');
        return {
          identity: t.getAttribute('data-identity'),
          videoWidth: v?.videoWidth,
          frames: v?.getVideoPlaybackQuality().totalVideoFrames,
          hasStream: !!v?.srcObject,
          tracks: v?.srcObject ? v.srcObject.getTracks().map((x) => `${x.kind}:${x.readyState}:${x.muted ? 'muted' : 'live'}`) : [],
        };
      }),
      body: document.body.innerText.slice(0, 500),
    }));
  } catch (e) {
    state = { error: String(e) };
  }
  return `===== ${p.identity} =====\n${JSON.stringify(state, null, 2)}\n--- console ---\n${p.console()}\n`;
}
