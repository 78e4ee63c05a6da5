/** The plain-text result card (non-TTY, and the fallback of the ink card). */
import { printable } from '../errors.js';

const SYMBOLS: Record<string, { symbol: string; color: 'green' | 'red' | 'yellow' | 'cyan' }> = {
  approved: { symbol: '✓', color: 'green' },
  submitted: { symbol: '↑', color: 'cyan' },
  rejected: { symbol: '✗', color: 'red' },
  error: { symbol: '✗', color: 'red' },
  provisional: { symbol: '…', color: 'yellow' },
  pending: { symbol: '…', color: 'yellow' },
};

const COLORS = { green: 32, red: 31, yellow: 33, cyan: 36 } as const;

export function renderResultText(document: Record<string, unknown>, options: { color: boolean; environmentLabel?: string }): string {
  const outcome = String(document['outcome']);
  const style = SYMBOLS[outcome] ?? { symbol: '?', color: 'yellow' as const };
  const paint = (text: string) => (options.color ? `\u001b[${COLORS[style.color]}m${text}\u001b[39m` : text);
  const lines = [`${paint(`${style.symbol} ${printable(outcome)}`)} · ${printable(options.environmentLabel ?? String(document['environment']))}`];
  const row = (label: string, value: unknown) => {
    // Values come from input and from the server: one line each, escapes shown (printable).
    if (value !== null && value !== undefined && value !== '') lines.push(`  ${label.padEnd(9)} ${printable(String(value), 500)}`);
  };
  row('user', document['user_id']);
  row('job', document['smile_job_id'] ? `${String(document['job_id'])}  (Smile job ${String(document['smile_job_id'])})` : document['job_id']);
  const code = document['result_code'];
  const text = document['result_text'];
  row('result', [code, text].filter((part) => part !== null && part !== undefined && part !== '').join(' '));
  const actions = document['actions'];
  if (actions && typeof actions === 'object') {
    const relevant = Object.entries(actions as Record<string, unknown>).filter(([, value]) => value !== 'Not Applicable');
    if (relevant.length > 0) row('actions', relevant.map(([key, value]) => `${key.replace(/_/g, ' ')}: ${String(value)}`).join(' · '));
  }
  if (document['expected'] !== undefined) row('expected', document['expected']);
  return lines.join('\n');
}
