import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestGate } from '../../../src/bulk/limiter.js';

/** Start `n` requests at once; record the fake time at which each is let through. */
function launch(gate: RequestGate, n: number, signal?: AbortSignal): { times: number[]; all: Promise<unknown> } {
  const times: number[] = [];
  const all = Promise.all(
    Array.from({ length: n }, () => gate.beforeRequest(signal).then(() => times.push(Date.now()))),
  );
  return { times, all };
}

describe('RequestGate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets everything through at once without a rate', async () => {
    const gate = new RequestGate();
    const { times, all } = launch(gate, 5);
    await all;
    expect(times).toEqual([0, 0, 0, 0, 0]);
  });

  it('spaces requests of all workers to the shared --rate', async () => {
    const gate = new RequestGate({ rate: 4 });
    const { times, all } = launch(gate, 6);
    await vi.runAllTimersAsync();
    await all;
    expect(times).toEqual([0, 250, 500, 750, 1000, 1250]);
  });

  it('allows a burst after idling, up to `burst`', async () => {
    const gate = new RequestGate({ rate: 10, burst: 3 });
    await vi.advanceTimersByTimeAsync(5000);
    const { times, all } = launch(gate, 5);
    await vi.runAllTimersAsync();
    await all;
    expect(times).toEqual([5000, 5000, 5000, 5100, 5200]);
  });

  it('one 429 pauses every worker once, for the Retry-After', async () => {
    const gate = new RequestGate();
    gate.onRateLimited(2000);
    gate.onRateLimited(1500); // a second 429 inside the pause does not extend or count
    expect(gate.pauses).toBe(1);
    const { times, all } = launch(gate, 3);
    await vi.advanceTimersByTimeAsync(1999);
    expect(times).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await all;
    expect(times).toEqual([2000, 2000, 2000]);
  });

  it('a longer Retry-After extends the pause; after it, the rate starts afresh', async () => {
    const gate = new RequestGate({ rate: 2 });
    gate.onRateLimited(1000);
    await vi.advanceTimersByTimeAsync(500);
    gate.onRateLimited(1000); // now until 1500
    expect(gate.pauses).toBe(1);
    const { times, all } = launch(gate, 3);
    await vi.runAllTimersAsync();
    await all;
    expect(times).toEqual([1500, 2000, 2500]);
    gate.onRateLimited(100);
    expect(gate.pauses).toBe(2);
  });

  it('a 429 that arrives while a request waits for its slot holds it too', async () => {
    const gate = new RequestGate({ rate: 1 });
    const first = launch(gate, 2);
    await vi.advanceTimersByTimeAsync(10);
    gate.onRateLimited(3000); // until 3010
    await vi.runAllTimersAsync();
    await first.all;
    expect(first.times).toEqual([0, 3010]);
  });

  it('stops waiting when the run is aborted', async () => {
    const gate = new RequestGate({ rate: 1 });
    const controller = new AbortController();
    await gate.beforeRequest(controller.signal);
    const waiting = gate.beforeRequest(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ exitCode: 130 });
  });
});
