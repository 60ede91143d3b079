// Starting `plenum serve` for a browser test: free loopback ports, a fresh data dir, /healthz, join URLs.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService, waitReady } from './process.mjs';

/** A free TCP port on 127.0.0.1. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tryUdp(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(null));
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

/** Whether TCP port `port` on 127.0.0.1 is free (the SFU listens for ICE-TCP on its UDP port numbers). */
function tcpFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port p on 127.0.0.1 such that p .. p+count-1 are all free over UDP and TCP (worker i binds p + i, both). */
export async function freeUdpPortRange(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await tryUdp(0);
    const base = first.address().port;
    const held = [first];
    let ok = base + count - 1 <= 65535;
    for (let i = 1; ok && i < count; i++) {
      const s = await tryUdp(base + i);
      if (s) held.push(s);
      else ok = false;
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    for (let i = 0; ok && i < count; i++) ok = await tcpFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free UDP ports`);
}

/**
 * Start `plenum serve`. Returns { env, baseUrl, dataDir, httpPort, log(), stop() }; log() is everything it printed
 * so far. `dataDir`: the data directory of a server stopped with `stop({ keepData: true })` (a restart).
 */
export async function startServer({ bin, webDir, workers = 2, readyTimeoutMs = 30_000, extraEnv = {}, httpPort: port = null, host = '127.0.0.1', dataDir: reuse = null }) {
  const dataDir = reuse ?? (await mkdtemp(join(tmpdir(), 'plenum-e2e-data-')));
  // `httpPort`: a port chosen beforehand (when another service must know the server's URL before it starts).
  const httpPort = port ?? (await freeTcpPort());
  const mediaPort = await freeUdpPortRange(workers);
  // `host`: the address to listen on and advertise (another than loopback when a browser sits in a namespace).
  const baseUrl = `http://${host}:${httpPort}`;
  const env = {
    ...process.env,
    PLENUM_DATA_DIR: dataDir,
    PLENUM_HTTP_ADDR: `${host}:${httpPort}`,
    PLENUM_MEDIA_ADDR: `${host}:${mediaPort}`,
    PLENUM_PUBLIC_IP: host,
    PLENUM_PUBLIC_URL: baseUrl,
    PLENUM_WORKERS: String(workers),
    PLENUM_WEB_DIR: webDir,
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    ...extraEnv,
  };
  const service = spawnService(bin, ['serve'], { env });
  const server = {
    env,
    baseUrl,
    dataDir,
    httpPort,
    mediaPort,
    log: () => service.output(),
    /** Send a signal (e.g. SIGTERM for a graceful drain). */
    signal: (sig) => service.signal(sig),
    /** Resolves with { code, signal } when the process has ended. */
    exited: () => service.exited(),
    /** Stop it; `keepData`: leave the data directory for a restart. */
    async stop({ keepData = false } = {}) {
      await service.stop();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
  const healthy = async () => {
    try {
      return (await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false; // not listening yet
    }
  };
  await waitReady(service, 'plenum serve', healthy, { timeoutMs: readyTimeoutMs, onFail: () => server.stop() });
  return server;
}

/** `plenum token ...` with the server's environment; returns the join URL (re-based on the server's URL). */
export function makeJoinUrl(server, bin, { room, identity, name, moderator = false, lobby = false, baseUrl = server.baseUrl }) {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      ['token', '--room', room, '--identity', identity, '--name', name, ...(moderator ? ['--moderator'] : []), ...(lobby ? ['--guest', '--lobby'] : [])],
      { env: server.env, timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`plenum token failed: ${err.message}\n${stderr}`));
        const urls = stdout.match(/https?:\/\/\S+/g);
        if (!urls) return reject(new Error(`plenum token printed no URL:\n${stdout}\n${stderr}`));
        const printed = new URL(urls[urls.length - 1]);
        if (!printed.hash.includes('token=')) return reject(new Error(`join URL has no #token=: ${printed}`));
        resolve(`${baseUrl}${printed.pathname}${printed.hash}`);
      },
    );
  });
}
