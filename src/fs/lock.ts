import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ExitCode, SmileCliError, UsageError } from '../errors.js';
import { syncDirectory, writeFailureReason } from './durable.js';

/**
 * One process per file: an exclusive lock file beside it (`FILE.lock`) holding who runs it. Two
 * bulk runs writing one journal would each send the rows the other has not journaled yet (a second
 * job for the same user) and tear each other's records; two emulators on one state file would
 * interleave their logs.
 *
 *   {"pid":4242,"host":"build-7","started_at":"2025-…Z","boot_id":"…","pid_start":"123456"}
 *
 * The file appears whole or not at all: it is written to a private temp file, flushed, then
 * hard-linked to the lock name, which fails if the lock exists (as O_EXCL does; where links are
 * not supported, O_EXCL itself). A lock whose process is gone (same host; pid not running, or
 * running but started later, or the machine rebooted) is stale and taken over. Taking over is
 * serialised by a second lock (`JOURNAL.lock.break`): the breaker checks, under it, that the
 * lock is still the same stale one before removing it, then competes for the lock like anyone
 * else, so of several resumers that saw the same stale lock exactly one gets it.
 */
export interface LockOwner {
  pid: number;
  host: string;
  started_at: string;
  /** Linux: the kernel's boot id (a reboot makes every earlier lock stale). */
  boot_id?: string;
  /** Linux: the process's start time in clock ticks since boot (tells a reused pid apart). */
  pid_start?: string;
}

/** The held lock: release it when the run ends, whatever the way (also done at process exit). */
export interface FileLock {
  readonly path: string;
  readonly owner: LockOwner;
  release(): Promise<void>;
}

/** What is locked, in the words of the messages. */
export interface LockSubject {
  /** "journal", "state file". */
  noun: string;
  /** The command that holds such a lock: "smile bulk". */
  holder: string;
  /** Error code of a refusal. */
  code: string;
  /** What to do once the holder is gone: "run again with --resume". */
  then: string;
  /** Why two at once are refused. */
  why: string;
}

export const JOURNAL_LOCK: LockSubject = {
  noun: 'journal',
  holder: 'smile bulk',
  code: 'journal_locked',
  then: 'run again with --resume',
  why: 'Two runs on one journal would send rows twice.',
};

export interface AcquireOptions {
  /** Told about a stale lock before it is taken over (the caller says so on stderr). */
  onStale?: (owner: LockOwner, lockPath: string) => void;
  /** Default JOURNAL_LOCK. */
  subject?: LockSubject;
}

/** Path of the lock of a journal. */
export function lockPathOf(journalPath: string): string {
  return `${journalPath}.lock`;
}

function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  return readProcFile('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** Linux /proc/PID/stat: state (field 3) and starttime (field 22); comm may contain spaces and parentheses. */
function procStat(pid: number): { state: string; start: string } | undefined {
  const text = readProcFile(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  return state && start ? { state, start } : undefined;
}

function currentOwner(): LockOwner {
  const owner: LockOwner = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  const boot = bootId();
  const proc = procStat(process.pid);
  if (boot) owner.boot_id = boot;
  if (proc) owner.pid_start = proc.start;
  return owner;
}

type Liveness = 'alive' | 'dead' | 'elsewhere';

/** Is the process that holds a lock still running? Only a process on this host can be checked. */
function liveness(owner: LockOwner): Liveness {
  if (owner.host !== hostname()) return 'elsewhere';
  const boot = bootId();
  if (owner.pid === process.pid) {
    // Our pid, but not necessarily us: in a container every run may get the same small pid, so a
    // lock left by a killed run would otherwise look alive forever.
    const mine = procStat(process.pid);
    if (owner.pid_start && mine) return owner.pid_start === mine.start && owner.boot_id === boot ? 'alive' : 'dead';
    const startedAt = Date.parse(owner.started_at);
    return Number.isFinite(startedAt) && startedAt >= Date.now() - process.uptime() * 1000 - 1000 ? 'alive' : 'dead';
  }
  if (owner.boot_id && boot && owner.boot_id !== boot) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'alive';
  }
  const proc = procStat(owner.pid);
  if (proc) {
    // A zombie has exited (only its parent has not reaped it); a later start time is another process with the same pid.
    if (proc.state === 'Z' || proc.state === 'X') return 'dead';
    if (owner.pid_start && owner.boot_id === boot && proc.start !== owner.pid_start) return 'dead';
  }
  return 'alive';
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof value.pid !== 'number' ||
      !Number.isInteger(value.pid) ||
      value.pid <= 0 ||
      typeof value.host !== 'string'
    )
      return undefined;
    return {
      pid: value.pid,
      host: value.host,
      started_at: typeof value.started_at === 'string' ? value.started_at : 'an unknown time',
      ...(typeof value.boot_id === 'string' ? { boot_id: value.boot_id } : {}),
      ...(typeof value.pid_start === 'string' ? { pid_start: value.pid_start } : {}),
    };
  } catch {
    return undefined;
  }
}

interface Seen {
  text: string;
  ino: number;
  owner: LockOwner | undefined;
}

async function readLock(path: string): Promise<Seen | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const [info, text] = await Promise.all([handle.stat(), handle.readFile('utf8')]);
      return { text, ino: info.ino, owner: parseOwner(text) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockIoError(path, error);
  }
}

function lockIoError(path: string, error: unknown): SmileCliError {
  return new SmileCliError(
    `The lock file ${path} could not be used: ${writeFailureReason(error)}.`,
    ExitCode.api,
    'journal_lock_io',
    {
      hint: 'The lock sits beside the file it guards: its directory must exist and be writable. Fix that, then run again.',
      cause: error,
    },
  );
}

/** Make `path` exist with `text` in it, atomically and exclusively. False when it already exists. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // A file system without hard links: O_EXCL on the lock itself (a reader may then briefly see it empty).
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
        return createExclusiveDirect(path, text);
      throw error;
    }
    syncDirectory(dirname(path));
    return true;
  } catch (error) {
    if (error instanceof SmileCliError) throw error;
    throw lockIoError(path, error);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function createExclusiveDirect(path: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

function since(owner: LockOwner): string {
  const started = Date.parse(owner.started_at);
  if (Number.isNaN(started)) return `since ${owner.started_at}`;
  const seconds = Math.max(0, Math.round((Date.now() - started) / 1000));
  const ago =
    seconds < 120
      ? `${seconds}s`
      : seconds < 7200
        ? `${Math.round(seconds / 60)} min`
        : `${Math.round(seconds / 3600)} h`;
  return `since ${owner.started_at}, ${ago} ago`;
}

function lockedError(
  journalPath: string,
  lockPath: string,
  seen: Seen,
  verdict: Liveness | 'unreadable',
  subject: LockSubject,
): UsageError {
  const owner = seen.owner;
  const details = owner
    ? { lock: lockPath, pid: owner.pid, host: owner.host, started_at: owner.started_at }
    : { lock: lockPath };
  if (!owner || verdict === 'unreadable') {
    return new UsageError(
      `The ${subject.noun} ${journalPath} is locked by another process, but its lock file ${lockPath} does not say which (it is not a smile lock record).`,
      {
        code: subject.code,
        details,
        hint: `If no other ${subject.holder} uses this ${subject.noun}, remove ${lockPath} and ${subject.then}.`,
      },
    );
  }
  const who = `${subject.holder} (pid ${owner.pid} on ${owner.host}, ${since(owner)})`;
  if (verdict === 'elsewhere') {
    return new UsageError(
      `The ${subject.noun} ${journalPath} is in use by ${who}, another machine: smile cannot tell from here whether it still runs.`,
      {
        code: subject.code,
        details,
        hint: `Let it finish. If it is gone for good, remove ${lockPath} and ${subject.then}.`,
      },
    );
  }
  return new UsageError(`The ${subject.noun} ${journalPath} is in use by another process: ${who}. ${subject.why}`, {
    code: subject.code,
    details,
    hint: `Wait for it to finish (or stop it: kill ${owner.pid}), then ${subject.then}.`,
  });
}

/**
 * Remove a stale lock, but only if it is still the one seen (same inode and bytes), and only one
 * process at a time (the `.break` lock). Returns without removing anything when someone else is
 * breaking it; the caller looks again.
 */
async function breakStaleLock(lockPath: string, seen: Seen, me: string): Promise<void> {
  const breakPath = `${lockPath}.break`;
  if (!(await createExclusive(breakPath, me))) {
    // Another process is taking over; if it died doing so, its break lock is stale too.
    const breaker = await readLock(breakPath);
    if (breaker?.owner && liveness(breaker.owner) === 'dead') {
      const again = await readLock(breakPath);
      if (again && again.ino === breaker.ino && again.text === breaker.text)
        await unlink(breakPath).catch(() => undefined);
    }
    return;
  }
  try {
    const now = await readLock(lockPath);
    if (now && now.ino === seen.ino && now.text === seen.text) await unlink(lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw lockIoError(lockPath, error);
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

/**
 * Take the lock of a file (a bulk journal, an emulator state file) for this process, or refuse
 * (exit 2, the subject's code) naming the process that holds it. A stale lock (its process gone) is taken over. Held until `release()`, or until
 * the process exits (a synchronous exit hook removes it; after kill -9 it is stale, not stuck).
 */
export async function acquireFileLock(journalPath: string, options: AcquireOptions = {}): Promise<FileLock> {
  const subject = options.subject ?? JOURNAL_LOCK;
  const lockPath = lockPathOf(journalPath);
  const owner = currentOwner();
  const text = `${JSON.stringify(owner)}\n`;
  const reported = new Set<string>();
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await createExclusive(lockPath, text)) return heldLock(lockPath, owner, text);
    const seen = await readLock(lockPath);
    if (!seen) continue; // released between our two looks
    if (!seen.owner) {
      // Not a whole record: being written where hard links are not supported (look again shortly),
      // or left by a crash of the machine (we link whole, flushed files): the user decides.
      if (attempt < 20) {
        await delay(25);
        continue;
      }
      throw lockedError(journalPath, lockPath, seen, 'unreadable', subject);
    }
    const verdict = liveness(seen.owner);
    if (verdict !== 'dead') throw lockedError(journalPath, lockPath, seen, verdict, subject);
    if (!reported.has(seen.text)) {
      reported.add(seen.text);
      options.onStale?.(seen.owner, lockPath);
    }
    await breakStaleLock(lockPath, seen, text);
    // Someone else may be breaking it right now: give them a moment before looking again.
    if (attempt > 0) await delay(Math.min(50, 5 * attempt));
  }
  throw new SmileCliError(
    `Could not take the lock ${lockPath}: other processes keep taking it over.`,
    ExitCode.api,
    'journal_lock_io',
    { hint: `Make sure one ${subject.holder} at a time uses this ${subject.noun}, then ${subject.then}.` },
  );
}

function heldLock(lockPath: string, owner: LockOwner, text: string): FileLock {
  let released = false;
  // Only remove the lock while it is still ours (it could have been broken as stale by mistake).
  const releaseSync = () => {
    if (released) return;
    released = true;
    process.off('exit', releaseSync);
    try {
      if (readFileSync(lockPath, 'utf8') === text) unlinkSync(lockPath);
    } catch {
      // gone already
    }
  };
  process.on('exit', releaseSync);
  return {
    path: lockPath,
    owner,
    async release() {
      if (released) return;
      released = true;
      process.off('exit', releaseSync);
      try {
        if ((await readFile(lockPath, 'utf8')) === text) await unlink(lockPath);
      } catch {
        // gone already
      }
    },
  };
}
