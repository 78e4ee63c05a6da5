/** Best-effort delivery of signed results to a job's callback_url (smile-api.md §7). */
import type { ResultObject } from '../smile/types.js';
import type { CallbackDelivery, EmulatorState } from './state.js';
import type { TimerRegistry } from './timers.js';

/** Delay before each attempt: one try now and two retries. The real retry policy is UNVERIFIED. */
const ATTEMPT_DELAYS_MS = [0, 250, 1000];
const ATTEMPT_TIMEOUT_MS = 5000;

export class CallbackSender {
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly state: EmulatorState,
    private readonly timers: TimerRegistry,
    private readonly sign: () => { timestamp: string; signature: string },
  ) {}

  /** Queues a POST of `result` + fresh `timestamp`/`signature` to `url`; returns at once. */
  send(url: string, jobId: string, result: ResultObject): void {
    const payload: Record<string, unknown> = { ...result, ...this.sign() };
    const delivery: CallbackDelivery = {
      url,
      jobId,
      resultCode: String(result.ResultCode ?? ''),
      attempts: 0,
      status: 0,
      ok: false,
      done: false,
      payload,
    };
    this.state.logCallback(delivery);
    this.schedule(delivery, 0);
  }

  private schedule(delivery: CallbackDelivery, attempt: number): void {
    const delay = ATTEMPT_DELAYS_MS[attempt];
    if (delay === undefined || this.closed) {
      delivery.done = true;
      return;
    }
    this.timers.after(delay, () => {
      void this.attempt(delivery).then((ok) => {
        if (ok) delivery.done = true;
        else this.schedule(delivery, attempt + 1);
      });
    });
  }

  private async attempt(delivery: CallbackDelivery): Promise<boolean> {
    if (this.closed) return false;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), ATTEMPT_TIMEOUT_MS);
    timeout.unref();
    delivery.attempts += 1;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'smile-emulator' },
        body: JSON.stringify(delivery.payload),
        signal: controller.signal,
      });
      // Drain the body so the connection can be reused; its content is not needed.
      await response.arrayBuffer().catch(() => undefined);
      delivery.status = response.status;
      delivery.ok = response.ok;
      delete delivery.error;
      return response.ok;
    } catch (error) {
      delivery.status = 0;
      delivery.ok = false;
      delivery.error = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }

  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }
}
