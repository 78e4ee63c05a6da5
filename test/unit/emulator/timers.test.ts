import { describe, expect, it } from 'vitest';
import { TimerRegistry } from '../../../src/emulator/timers.js';

/** Keep the CPU busy for `ms` without yielding (as handling a request does before it arms a timer). */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe('TimerRegistry', () => {
  it('never runs a callback before Date.now() reaches its due time', async () => {
    // Node measures a timer from the event loop's cached "now", taken when this tick began; work done
    // earlier in the tick makes the timer fire before Date.now() + ms. The emulator settles a job only
    // when Date.now() has reached its due time, so an early timer used to leave the job unsettled.
    const timers = new TimerRegistry();
    const early: number[] = [];
    const total = 20;
    let ran = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < total; i++) {
        busy(2);
        const due = Date.now() + 5;
        timers.after(5, () => {
          if (Date.now() < due) early.push(due - Date.now());
          if (++ran === total) resolve();
        });
      }
    });
    timers.close();
    expect(early).toEqual([]);
  });

  it('runs nothing once closed, including a timer re-armed for the rest of its time', async () => {
    const timers = new TimerRegistry();
    let ran = false;
    busy(3);
    timers.after(2, () => (ran = true));
    const witness = new TimerRegistry();
    // A witness due later than the cancelled timer: when it runs, the cancelled one would have.
    await new Promise<void>((resolve) => {
      witness.after(10, resolve);
      timers.close();
    });
    expect(ran).toBe(false);
  });
});
