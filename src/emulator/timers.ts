/** Every timer the emulator starts goes through here, so close() can cancel them all. */
export class TimerRegistry {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Runs `fn` after `ms`; errors thrown by `fn` are swallowed (the server must never crash). */
  after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        fn();
      } catch {
        // deliberately ignored: a timer callback is best effort
      }
    }, Math.max(0, ms));
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
