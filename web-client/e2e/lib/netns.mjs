// A private network for one browser: a network namespace joined to the host by a veth pair, with a real rate
// limit (the kernel's token bucket filter, `tc qdisc ... tbf`) on the link towards the browser and random loss
// (nftables) on what arrives in the namespace. The browser runs
// inside the namespace (`ip netns exec`), the server on the host side; nothing leaves the machine.
//
// Needs root (CAP_NET_ADMIN). `netnsUnavailable()` says why it cannot run, or null.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM } from './browser.mjs';

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Why a namespace cannot be made here (not root, no `ip`/`tc`), or null when it can. */
export async function netnsUnavailable() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and tc)';
  try {
    await run('ip', ['-V']);
    await run('tc', ['-V']);
    await run('nft', ['--version']);
  } catch (e) {
    return `iproute2 or nftables missing: ${e.message}`;
  }
  return null;
}

/**
 * Create namespace + veth. Returns { hostIp, nsIp, launcher, limit(kbit), unlimit(), close() }: `launcher` is an
 * executable that starts Chromium inside the namespace (give it to launchParticipant as `executablePath`),
 * `limit` caps the rate towards the namespace (what the browser downloads) at `kbit` kbit/s.
 */
export async function createNetns() {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`.slice(-6);
  const name = `plenum-e2e-${id}`;
  const host = `pe${id}h`;
  const peer = `pe${id}n`;
  // A /30 in 10.213.0.0/16 picked from the id, so parallel runs do not collide.
  const n = Number(id) % 16000;
  const base = `10.213.${Math.floor(n / 64)}.${(n % 64) * 4}`;
  const [a, b, c, d] = base.split('.').map(Number);
  const hostIp = `${a}.${b}.${c}.${d + 1}`;
  const nsIp = `${a}.${b}.${c}.${d + 2}`;
  const dir = await mkdtemp(join(tmpdir(), 'plenum-e2e-netns-'));
  let created = false;
  const close = async () => {
    if (created) {
      await run('ip', ['link', 'del', host]).catch(() => undefined);
      await run('ip', ['netns', 'del', name]).catch(() => undefined);
      created = false;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('ip', ['netns', 'add', name]);
    created = true;
    await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    await run('ip', ['link', 'set', peer, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostIp}/30`, 'dev', host]);
    await run('ip', ['link', 'set', host, 'up']);
    await run('ip', ['-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', peer]);
    await run('ip', ['-n', name, 'link', 'set', peer, 'up']);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await close();
    throw e;
  }
  const launcher = join(dir, 'chromium-in-netns');
  await writeFile(launcher, `#!/bin/sh\nexec ip netns exec ${name} ${CHROMIUM} "$@"\n`);
  await chmod(launcher, 0o755);
  let limited = false;
  return {
    name,
    hostIp,
    nsIp,
    launcher,
    /** Cap what flows towards the namespace at `kbit` kbit/s (bursts of 15 kB, at most 200 ms queued). */
    async limit(kbit) {
      const verb = limited ? 'change' : 'add';
      await run('tc', ['qdisc', verb, 'dev', host, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '15kb', 'latency', '200ms']);
      limited = true;
    },
    async unlimit() {
      if (limited) await run('tc', ['qdisc', 'del', 'dev', host, 'root']);
      limited = false;
    },
    /**
     * Drop `pct` % of the UDP datagrams arriving in the namespace at random (nftables in the namespace: the
     * kernel here has no netem). `pct` 0 removes the rule.
     */
    async loss(pct) {
      await run('ip', ['netns', 'exec', name, 'nft', 'delete', 'table', 'inet', 'plenum_loss']).catch(() => undefined);
      if (pct <= 0) return;
      const perMille = Math.round(pct * 10);
      const rules = `table inet plenum_loss {\n chain input {\n  type filter hook input priority 0; policy accept;\n  meta l4proto udp numgen random mod 1000 < ${perMille} counter drop\n }\n}\n`;
      const file = join(dir, 'loss.nft');
      await writeFile(file, rules);
      await run('ip', ['netns', 'exec', name, 'nft', '-f', file]);
    },
    /** Datagrams the loss rule dropped so far. */
    async dropped() {
      const out = await run('ip', ['netns', 'exec', name, 'nft', 'list', 'table', 'inet', 'plenum_loss']).catch(() => '');
      return Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0);
    },
    /** Bytes sent from the host towards the namespace so far (what crossed the capped link). */
    async bytesToNamespace() {
      const out = await run('ip', ['-s', '-j', 'link', 'show', host]);
      return JSON.parse(out)[0]?.stats64?.tx?.bytes ?? 0;
    },
    close,
  };
}
