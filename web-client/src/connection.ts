// Noticing a dead signaling connection, and when to try again.
//
// A browser cannot see WebSocket pings, so the client sends `ping` every HEARTBEAT_INTERVAL_MS; every message from
// the server counts as a sign of life. Nothing for DEAD_AFTER_MS: the connection is dead (a TCP connection through a
// dropped network can stay "open" for minutes).

export const HEARTBEAT_INTERVAL_MS = 2500;
export const DEAD_AFTER_MS = 8000;
/** A new socket that does not open (and answer) within this is given up. */
export const OPEN_TIMEOUT_MS = 5000;
/** After this long without getting back in, the client stops trying. */
export const GIVE_UP_AFTER_MS = 5 * 60_000;

/** Delay before reconnect attempt `attempt` (0-based): quick first, then every few seconds. */
export function reconnectDelay(attempt: number): number {
  const steps = [250, 1000, 2000];
  return attempt < steps.length ? steps[attempt] : 3000;
}

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;

  constructor(
    private readonly ping: () => void,
    private readonly onDead: () => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  start(): void {
    this.stop();
    this.lastHeard = this.now();
    this.timer = setInterval(() => {
      if (this.now() - this.lastHeard > DEAD_AFTER_MS) {
        this.stop();
        this.onDead();
      } else {
        this.ping();
      }
    }, HEARTBEAT_INTERVAL_MS);
  }

  /** Something arrived from the server. */
  heard(): void {
    this.lastHeard = this.now();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
