import { RegistrationHistory } from './store.js';
import type { HistoryEntry } from './store.js';

/** Where a registration went: what the history says about the account (never the key). */
export interface HistoryTarget {
  environment: string;
  baseUrl: string;
  profileName?: string | undefined;
}

/** The host of a base URL, for the history (no path, no user info). */
export function historyHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return '';
  }
}

/** The lines one registration leaves in the history; each call is safe to ignore (it never throws). */
export interface RegistrationRecorder {
  /** The job id is about to be sent: from now on the job may exist at Smile ID. */
  sent(): Promise<void>;
  smileJobId(id: string): void;
  /** How it ended (an outcome, `interrupted`, or `error` with the error's code); nothing when never sent. */
  ended(outcome: string, errorCode?: string): Promise<void>;
}

export function recordRegistration(
  dir: string,
  target: HistoryTarget,
  job: { userId: string; jobId: string },
  now: () => Date = () => new Date(),
): RegistrationRecorder {
  const history = new RegistrationHistory(dir);
  let wasSent = false;
  let smileJobId: string | undefined;
  const entry = (outcome: string, errorCode?: string): HistoryEntry => ({
    at: now().toISOString(),
    user_id: job.userId,
    job_id: job.jobId,
    ...(smileJobId === undefined ? {} : { smile_job_id: smileJobId }),
    environment: target.environment,
    host: historyHost(target.baseUrl),
    ...(target.profileName === undefined ? {} : { profile: target.profileName }),
    outcome,
    ...(errorCode === undefined ? {} : { error_code: errorCode }),
  });
  return {
    async sent() {
      wasSent = true;
      await history.record(entry('sent'));
    },
    smileJobId(id) {
      smileJobId = id;
    },
    async ended(outcome, errorCode) {
      if (wasSent) await history.record(entry(outcome, errorCode));
    },
  };
}

/**
 * `smile status` on a job of the history: adds how it stands now (so `smile jobs` shows it). A job
 * that is not in the history is left out: the history is of registrations made here.
 */
export async function recordStatus(
  dir: string,
  target: HistoryTarget,
  job: { userId: string; jobId: string },
  outcome: string,
  now: () => Date = () => new Date(),
): Promise<void> {
  const history = new RegistrationHistory(dir);
  const host = historyHost(target.baseUrl);
  const known = (await history.list()).find(
    (entry) => entry.host === host && entry.user_id === job.userId && entry.job_id === job.jobId,
  );
  if (!known || known.outcome === outcome) return;
  const { error_code: _dropped, ...rest } = known;
  await history.record({ ...rest, at: now().toISOString(), outcome });
}
