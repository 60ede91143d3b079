// A child process a browser test depends on (plenum serve, turnserver): its output kept, killed when the test
// process exits, stopped with SIGTERM then SIGKILL, and waited for until it is ready.

import { spawn } from 'node:child_process';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawn `cmd args`. Returns { output(), running(), exitStatus(), signal(sig), exited(), stop() }: output() is what
 * it printed so far, exited() resolves with { code, signal } when it has ended, stop() ends it (SIGTERM, SIGKILL
 * after 3 s).
 */
export function spawnService(cmd, args, { env = process.env } = {}) {
  const chunks = [];
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let status = null;
  // Never leave a process behind, even when the test process dies on a timeout.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((status = { code, signal })));
    child.on('error', (err) => {
      chunks.push(`[spawn error] ${err.message}\n`);
      resolve((status = { code: null, signal: null, error: err.message }));
    });
  });
  child.stdout.on('data', (d) => chunks.push(d.toString()));
  child.stderr.on('data', (d) => chunks.push(d.toString()));
  return {
    output: () => chunks.join(''),
    running: () => status === null,
    exitStatus: () => status,
    signal: (sig) => child.kill(sig),
    exited: () => exitPromise,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (status === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitPromise;
        clearTimeout(t);
      }
    },
  };
}

/**
 * Poll `ready()` every 100 ms until it is true. Throws (after `onFail()`) when the service exits first or
 * `timeoutMs` passes; the error carries `details()`.
 */
export async function waitReady(service, what, ready, { timeoutMs, details = async () => service.output(), onFail = async () => {} }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!service.running()) {
      const text = await details();
      await onFail();
      throw new Error(`${what} exited early (${JSON.stringify(service.exitStatus())}):\n${text}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) {
      const text = await details();
      await onFail();
      throw new Error(`${what} not ready within ${timeoutMs} ms:\n${text}`);
    }
    await sleep(100);
  }
}
