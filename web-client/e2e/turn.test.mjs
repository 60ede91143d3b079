// TURN end to end: a real coturn (Debian's turnserver) on loopback with the REST shared secret, plenum serve with
// turn_urls, the same secret and ice_transport_policy = "relay". Two Chromiums meet; every connection must run
// through coturn (selected candidate pair of type relay, media bytes flowing), and coturn's log shows allocations
// authenticated with the credentials Plenum handed out. Second test: the same
// with Chromium gathering no UDP at all (a UDP-blocking firewall): it falls back to TURN over TCP. Third test: with a
// secret coturn does not share, coturn answers 401 and no media connection comes up.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { assertVideoPlaying, launchParticipant } from './lib/browser.mjs';
import { logLinesOf, startCoturn } from './lib/coturn.mjs';
import { bin, checkPrerequisites, distDir, withSteps } from './lib/harness.mjs';
import { join, ownSid, sleep, until } from './lib/meeting.mjs';
import { makeJoinUrl, startServer } from './lib/server.mjs';

const SECRET = 'e2e-turn-shared-secret-7c1f';

/** Keeps every RTCPeerConnection the app creates (and its configuration) in window.__pcs, for getStats. */
const RECORD_PCS = () => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(config, ...rest) {
      super(config, ...rest);
      window.__pcs.push({ pc: this, config });
    }
  };
};

/** Per open connection: policy, state, the selected pair's candidates and bytes, all local candidate types. */
function connectionStats(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const { pc, config } of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      let pair = null;
      let transportBytesReceived = 0;
      const localTypes = new Set();
      let rtpIn = 0;
      let rtpOut = 0;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          pair = byId.get(s.selectedCandidatePairId);
          transportBytesReceived += s.bytesReceived ?? 0;
        }
        if (s.type === 'local-candidate') localTypes.add(s.candidateType);
        if (s.type === 'inbound-rtp') rtpIn += s.bytesReceived ?? 0;
        if (s.type === 'outbound-rtp') rtpOut += s.bytesSent ?? 0;
      });
      const local = pair ? byId.get(pair.localCandidateId) : null;
      const remote = pair ? byId.get(pair.remoteCandidateId) : null;
      out.push({
        policy: config?.iceTransportPolicy ?? null,
        username: config?.iceServers?.[0]?.username ?? null,
        urls: config?.iceServers?.[0]?.urls ?? null,
        state: pc.connectionState,
        localType: local?.candidateType ?? null,
        relayProtocol: local?.relayProtocol ?? null,
        local: local ? `${local.address}:${local.port}` : null,
        remote: remote ? `${remote.address}:${remote.port}` : null,
        pairBytesSent: pair?.bytesSent ?? 0,
        pairBytesReceived: pair?.bytesReceived ?? 0,
        transportBytesReceived,
        localTypes: [...localTypes],
        rtpIn,
        rtpOut,
      });
    }
    return out;
  });
}

async function withCoturn(t, secret, body) {
  const turn = await startCoturn({ secret });
  let ok = false;
  try {
    await body(turn);
    ok = true;
  } finally {
    if (!ok || process.env.PLENUM_E2E_VERBOSE) console.log(`===== coturn log =====\n${(await turn.log()).slice(-8000)}`);
    await turn.stop();
  }
}

const turnEnv = (turn, secret) => ({
  // Deliberately TCP first: Plenum hands them out UDP first.
  PLENUM_TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=tcp,turn:127.0.0.1:${turn.port}?transport=udp`,
  PLENUM_TURN_SECRET: secret,
  PLENUM_ICE_TRANSPORT_POLICY: 'relay',
});

/** Chromium that gathers no UDP candidates at all (as behind a firewall that blocks UDP): only TCP is left. */
const NO_UDP = ['--force-webrtc-ip-handling-policy', '--webrtc-ip-handling-policy=disable_non_proxied_udp'];

test('two participants meet through a real coturn, relayed only, with credentials from Plenum', { timeout: 120_000 }, async (t) => {
  // Chromium usually settles on the TURN/UDP allocation, but now and then nominates the TCP one that answered first.
  await meetThroughCoturn(t, { extraArgs: [], relayProtocols: ['udp', 'tcp'] });
});

test('UDP blocked: the same meeting falls back to TURN over TCP', { timeout: 120_000 }, async (t) => {
  await meetThroughCoturn(t, { extraArgs: NO_UDP, relayProtocols: ['tcp'] });
});

async function meetThroughCoturn(t, { extraArgs, relayProtocols }) {
  checkPrerequisites();
  await withCoturn(t, SECRET, async (turn) => {
    await withSteps(t, async ({ step, people, setServer }) => {
      const server = await startServer({ bin, webDir: distDir, workers: 1, extraEnv: turnEnv(turn, SECRET) });
      setServer(server);
      for (const identity of ['alice', 'bob']) {
        const url = await makeJoinUrl(server, bin, { room: 'turn-e2e', identity, name: identity });
        people.push({ identity, url, ...(await launchParticipant(identity, { initScript: RECORD_PCS, extraArgs })) });
      }
      const [alice, bob] = people;

      await step('both join and publish', async () => {
        for (const p of people) await join(p);
      }, { critical: true });

      await step('they see each other', async () => {
        for (const [p, other] of [[alice, bob], [bob, alice]]) {
          const v = await assertVideoPlaying(p.page, other.identity, 20_000);
          assert.ok(v.framesAfter > v.framesBefore, `${p.identity} sees ${other.identity}: ${JSON.stringify(v)}`);
        }
      }, { critical: true });

      await step('every connection is relayed by coturn and media flows through it', async () => {
        for (const p of people) {
          const before = await until(`${p.identity}: publisher and subscriber connected`, async () => {
            const s = await connectionStats(p.page);
            return { ok: s.length === 2 && s.every((c) => c.state === 'connected' && c.localType), value: s };
          }, 15_000);
          await sleep(1500);
          const after = await connectionStats(p.page);
          const sid = await ownSid(p.page);
          for (const [i, c] of after.entries()) {
            const what = `${p.identity} connection ${i}: ${JSON.stringify(c)}`;
            assert.equal(c.policy, 'relay', `the server's ice_transport_policy reached the client: ${what}`);
            assert.deepEqual(c.urls, [`turn:127.0.0.1:${turn.port}?transport=udp`, `turn:127.0.0.1:${turn.port}?transport=tcp`], what);
            assert.match(c.username ?? '', new RegExp(`^\\d+:${sid}$`), `username <expiry>:<sid>: ${what}`);
            assert.equal(c.localType, 'relay', `selected local candidate is relayed: ${what}`);
            assert.ok(relayProtocols.includes(c.relayProtocol), `reached coturn over ${relayProtocols.join(' or ')}: ${what}`);
            assert.deepEqual(c.localTypes, ['relay'], `only relayed candidates gathered: ${what}`);
            assert.equal(c.remote, `127.0.0.1:${server.mediaPort}`, `the far end is the SFU: ${what}`);
            // Sent on the selected (relayed) pair; received on the transport (every candidate is relayed). Chromium may
            // switch between its relayed pairs (UDP and TCP allocations) while the SFU keeps answering on the other.
            assert.ok(c.pairBytesSent > before[i].pairBytesSent, `bytes sent through the relay: ${what}`);
            assert.ok(c.transportBytesReceived > before[i].transportBytesReceived, `bytes received through the relay: ${what}`);
          }
          // One connection sends media, the other receives it.
          assert.ok(after.some((c, i) => c.rtpOut > before[i].rtpOut), `${p.identity} sends media: ${JSON.stringify(after)}`);
          assert.ok(after.some((c, i) => c.rtpIn > before[i].rtpIn), `${p.identity} receives media: ${JSON.stringify(after)}`);
        }
      });

      await step("coturn's log: allocations authenticated with Plenum's credentials", async () => {
        const log = await turn.log();
        for (const p of people) {
          const [{ username }] = await connectionStats(p.page);
          const lines = logLinesOf(log, username);
          assert.ok(lines.some((l) => l.includes('ALLOCATE processed, success')), `${p.identity} (${username}) allocated:\n${lines.join('\n')}`);
          assert.ok(lines.some((l) => /(CREATE_PERMISSION|CHANNEL_BIND) processed, success/.test(l)), `${p.identity} got a permission to the SFU:\n${lines.join('\n')}`);
          assert.ok(!lines.some((l) => /error 401/.test(l)), `no refused request carried ${username}:\n${lines.join('\n')}`);
        }
      });
    });
  });
}

test('a secret coturn does not share: coturn answers 401 and no relayed connection comes up', { timeout: 60_000 }, async (t) => {
  checkPrerequisites();
  await withCoturn(t, SECRET, async (turn) => {
    await withSteps(t, async ({ step, people, setServer }) => {
      const server = await startServer({ bin, webDir: distDir, workers: 1, extraEnv: turnEnv(turn, 'not-the-coturn-secret') });
      setServer(server);
      const url = await makeJoinUrl(server, bin, { room: 'turn-wrong', identity: 'carol', name: 'Carol' });
      const carol = { identity: 'carol', url, ...(await launchParticipant('carol', { initScript: RECORD_PCS })) };
      people.push(carol);

      await step('carol joins signaling, but coturn refuses her credentials and media never connects', async () => {
        await carol.page.goto(carol.url, { timeout: 15_000 });
        await carol.page.getByTestId('join-button').click();
        await carol.page.waitForFunction(() => window.__plenum?.phase() === 'joined', null, { timeout: 15_000 });
        const username = await until('a TURN username in the client configuration', async () => {
          const s = await connectionStats(carol.page);
          return { ok: !!s[0]?.username, value: s[0]?.username };
        }, 10_000);
        const refused = await until(`coturn refuses ${username} with 401`, async () => {
          const lines = logLinesOf(await turn.log(), username);
          return { ok: lines.some((l) => l.includes('error 401')), value: lines };
        }, 15_000);
        assert.ok(!refused.some((l) => l.includes('ALLOCATE processed, success')), refused.join('\n'));
        const stats = await connectionStats(carol.page);
        assert.ok(stats.every((c) => c.state !== 'connected' && !c.localTypes.includes('relay')), JSON.stringify(stats));
      });
    });
  });
});
