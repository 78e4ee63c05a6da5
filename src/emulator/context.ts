/** What every route and the job lifecycle share. */
import type { CallbackSender } from './callbacks.js';
import type { EmulatorState } from './state.js';
import type { TimerRegistry } from './timers.js';

export interface EmulatorContext {
  state: EmulatorState;
  partnerId: string;
  apiKey: string;
  /** `http(s)://host:port`, used to build upload and image URLs. */
  origin: string;
  processingMs: number;
  humanReviewMs: number;
  timestampWindowMs: number;
  rejectCode: string;
  /** The emulator's clock (real time + clockSkewMs): Date headers, response timestamps, signature freshness. */
  now(): number;
  timers: TimerRegistry;
  callbacks: CallbackSender;
}
