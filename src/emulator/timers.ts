/** Every timer the emulator starts goes through here, so close() can cancel them all. */
export class TimerRegistry {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /**
   * Runs `fn` once `ms` have passed by `Date.now()`; errors thrown by `fn` are swallowed (the server
   * must never crash). Node's timers keep their own clock and can fire a millisecond before
   * `Date.now()` says the time has come (seen: 258 of 3,000): callers compare against `Date.now()`
   * (a job is settled only when it is due), so an early timer is re-armed for the rest, never dropped.
   */
  after(ms: number, fn: () => void): void {
    this.#at(Date.now() + Math.max(0, ms), fn);
  }

  #at(due: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (Date.now() < due) {
          this.#at(due, fn);
          return;
        }
        try {
          fn();
        } catch {
          // deliberately ignored: a timer callback is best effort
        }
      },
      Math.max(0, due - Date.now()),
    );
    // Timers never keep the process alive on their own: the listening server does, while it runs.
    timer.unref();
    this.timers.add(timer);
  }

  /** Resolves after `ms`; never resolves once the registry is closed (the caller's socket is gone by then). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
