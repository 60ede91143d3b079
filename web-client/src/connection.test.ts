import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEAD_AFTER_MS, HEARTBEAT_INTERVAL_MS, Heartbeat, reconnectDelay } from './connection';

describe('reconnect delays', () => {
  it('start quick and settle at a few seconds', () => {
    const delays = [0, 1, 2, 3, 10, 100].map(reconnectDelay);
    expect(delays[0]).toBeLessThan(500);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays.at(-1)).toBeLessThanOrEqual(5000);
  });
});

describe('heartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings while the server answers and calls a silent connection dead', () => {
    let pings = 0;
    let dead = 0;
    const hb = new Heartbeat(() => pings++, () => dead++);
    hb.start();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
      hb.heard();
    }
    expect(pings).toBe(5);
    expect(dead).toBe(0);
    vi.advanceTimersByTime(DEAD_AFTER_MS + HEARTBEAT_INTERVAL_MS);
    expect(dead).toBe(1);
    vi.advanceTimersByTime(DEAD_AFTER_MS * 2);
    expect(dead).toBe(1);
    hb.stop();
  });
});
