import { Box, Text, render } from 'ink';
import type { BulkSnapshot } from '../bulk/progress.js';
import { printable } from '../errors.js';

const BAR_WIDTH = 30;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return '';
  const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} `;
}

const COLOURS: Record<string, string> = {
  approved: 'green',
  submitted: 'cyan',
  skipped: 'cyan',
  checked: 'green',
  rejected: 'red',
  refused: 'red',
  invalid: 'red',
  provisional: 'yellow',
  pending: 'yellow',
  error: 'yellow',
};

/** The live bulk dashboard: progress, pace, ETA, outcome counts, workers, recent failures. */
export function BulkDashboard({ snapshot }: { snapshot: BulkSnapshot }) {
  const s = snapshot;
  const outcomes = Object.entries(s.outcomes).filter(([, count]) => count > 0);
  const total = s.total === undefined ? '' : `/${s.total}`;
  const percent = s.total ? ` ${Math.floor((s.done / s.total) * 100)}%` : '';
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={s.paused ? 'yellow' : 'cyan'} paddingX={1}>
      <Text>
        <Text bold>smile bulk</Text>
        <Text color="gray">
          {' '}
          · {s.environment}
          {s.dryRun ? ' · dry run' : ''}
        </Text>
      </Text>
      <Text>
        {bar(s.done, s.total)}
        <Text bold>
          {s.done}
          {total}
        </Text>
        {percent}
        <Text color="gray">
          {' '}
          · {s.rate.toFixed(1)} rows/s · elapsed {duration(s.elapsedMs / 1000)} · ETA{' '}
          {s.etaSeconds === undefined ? '–' : duration(s.etaSeconds)}
        </Text>
      </Text>
      <Text>
        {outcomes.length === 0 ? <Text color="gray">no rows finished yet</Text> : null}
        {outcomes.map(([outcome, count], index) => (
          <Text key={outcome}>
            {index > 0 ? <Text color="gray"> · </Text> : null}
            <Text color={COLOURS[outcome] ?? 'white'}>
              {outcome} {count}
            </Text>
          </Text>
        ))}
      </Text>
      <Text color="gray">
        submitting {s.submitting} · waiting for results {s.waiting}
        {s.retries > 0 ? ` · ${s.retries} retries` : ''}
        {s.rateLimitPauses > 0 ? ` · ${s.rateLimitPauses} rate-limit pauses` : ''}
        {s.fromJournal > 0 ? ` · ${s.fromJournal} from the journal` : ''}
      </Text>
      {s.paused ? <Text color="yellow">⏸ rate limited (429): every worker waits for Retry-After</Text> : null}
      {s.recentFailures.length > 0 ? <Text color="gray">recent failures:</Text> : null}
      {s.recentFailures.map((failure) => (
        <Text key={`${failure.line}`} wrap="truncate-end">
          <Text
            color={
              failure.outcome === 'provisional' || failure.outcome === 'pending' || failure.outcome === 'error'
                ? 'yellow'
                : 'red'
            }
          >
            {' '}
            ✗ line {failure.line}
          </Text>
          {failure.user_id ? ` ${printable(failure.user_id)}` : ''}: {printable(failure.reason ?? '')}
        </Text>
      ))}
    </Box>
  );
}

export interface MountedDashboard {
  stop(): void;
}

/**
 * Draw the dashboard on stderr (a TTY: the caller checks) and redraw it from `snapshot()` a few
 * times a second. Nothing reads stdin: no raw mode, Ctrl-C stays with the process's handler.
 */
export function mountBulkDashboard(
  snapshot: () => BulkSnapshot,
  stderr: NodeJS.WriteStream | NodeJS.WritableStream,
  intervalMs = 200,
): MountedDashboard {
  const instance = render(<BulkDashboard snapshot={snapshot()} />, {
    stdout: stderr as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const timer = setInterval(() => instance.rerender(<BulkDashboard snapshot={snapshot()} />), intervalMs);
  timer.unref?.();
  return {
    stop() {
      clearInterval(timer);
      instance.rerender(<BulkDashboard snapshot={snapshot()} />);
      instance.unmount();
    },
  };
}
