/**
 * A real "disk full": a tiny tmpfs mounted in a temp dir (needs root and mount(8), as in CI),
 * which a test fills to leave just a few bytes free. Where it cannot be mounted the caller skips
 * with `tinyDiskUnavailable` as the reason; `/dev/full` covers the simplest cases everywhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TinyDisk {
  dir: string;
  /** Bytes still free for writing. */
  free(): number;
  /** Write a filler file so that only about `bytes` stay free (tmpfs counts whole 4 KiB pages). */
  leaveFree(bytes: number): void;
  cleanup(): void;
}

function probe(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs as root)';
  const dir = mkdtempSync(join(tmpdir(), 'smile-probe-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mount -t tmpfs is not permitted here (no CAP_SYS_ADMIN)';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why a tiny disk cannot be made here, or undefined when it can. */
export const tinyDiskUnavailable: string | undefined = probe();

let fillers = 0;

/** Mount a tmpfs of `sizeKb` KiB in a new temp dir. */
export function tinyDisk(sizeKb = 256): TinyDisk {
  if (tinyDiskUnavailable) throw new Error(tinyDiskUnavailable);
  const dir = mkdtempSync(join(tmpdir(), 'smile-tiny-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0777`, 'tmpfs', dir], { stdio: 'ignore' });
  const free = () => {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  };
  return {
    dir,
    free,
    leaveFree(bytes: number) {
      const size = free() - bytes;
      if (size > 0) writeFileSync(join(dir, `.filler-${++fillers}`), Buffer.alloc(size));
    },
    cleanup() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
