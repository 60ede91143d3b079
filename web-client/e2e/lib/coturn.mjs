// A real coturn (Debian's `turnserver`) on 127.0.0.1 for a browser test: REST shared-secret auth
// (use-auth-secret), loopback peers allowed (the SFU is on 127.0.0.1), no TLS, a log file the test reads.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPortRange } from './server.mjs';
import { spawnService, waitReady } from './process.mjs';

export const TURNSERVER = process.env.PLENUM_TURNSERVER ?? '/usr/bin/turnserver';
export const TURN_REALM = 'plenum.test';

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Start turnserver with `secret`; returns { port, log(), stop() } (log() reads coturn's log file). */
export async function startCoturn({ secret, readyTimeoutMs = 10_000 }) {
  if (!existsSync(TURNSERVER)) throw new Error(`no ${TURNSERVER} (apt-get install -y --no-install-recommends coturn)`);
  const dir = await mkdtemp(join(tmpdir(), 'plenum-e2e-coturn-'));
  const port = await freeTcpPort();
  const relayMin = await freeUdpPortRange(32);
  const logFile = join(dir, 'turn.log');
  const config = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `min-port=${relayMin}`,
    `max-port=${relayMin + 31}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `realm=${TURN_REALM}`,
    // The SFU listens on 127.0.0.1; coturn refuses loopback peers by default.
    'allow-loopback-peers',
    'no-tls',
    'no-dtls',
    'no-cli',
    'fingerprint',
    `log-file=${logFile}`,
    'simple-log',
    'verbose',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turn.pid')}`,
  ];
  const confFile = join(dir, 'turnserver.conf');
  await writeFile(confFile, `${config.join('\n')}\n`);
  const service = spawnService(TURNSERVER, ['-c', confFile]);
  const turn = {
    port,
    async log() {
      return readFile(logFile, 'utf8').catch(() => '');
    },
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await waitReady(service, 'turnserver', () => tcpOpen(port), {
    timeoutMs: readyTimeoutMs,
    details: async () => `${service.output()}\n${await turn.log()}`,
    onFail: () => turn.stop(),
  });
  return turn;
}

/** coturn's log lines for `username` (the credentials Plenum handed out). */
export function logLinesOf(log, username) {
  return log.split('\n').filter((l) => l.includes(`user <${username}>`));
}
