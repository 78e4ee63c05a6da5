/** The plain-text result card (non-TTY, and the fallback of the ink card). */
import { printable } from '../errors.js';
import type { ResultCardFields } from '../register/document.js';
import type { Outcome } from '../smile/outcome.js';

/** How each outcome looks, in text and in the ink card. */
export const OUTCOME_STYLE: Readonly<
  Record<Outcome, { symbol: string; color: 'green' | 'red' | 'yellow' | 'cyan'; label: string }>
> = {
  approved: { symbol: '✓', color: 'green', label: 'Approved' },
  submitted: { symbol: '↑', color: 'cyan', label: 'Submitted' },
  rejected: { symbol: '✗', color: 'red', label: 'Rejected' },
  error: { symbol: '✗', color: 'red', label: 'Error' },
  provisional: { symbol: '…', color: 'yellow', label: 'Provisional: under human review' },
  pending: { symbol: '…', color: 'yellow', label: 'Pending: not final yet' },
};

const COLORS = { green: 32, red: 31, yellow: 33, cyan: 36 } as const;

export function renderResultText(
  document: ResultCardFields,
  options: { color: boolean; environmentLabel?: string },
): string {
  const outcome = document.outcome;
  const style = OUTCOME_STYLE[outcome];
  const paint = (text: string) => (options.color ? `\u001b[${COLORS[style.color]}m${text}\u001b[39m` : text);
  const lines = [
    `${paint(`${style.symbol} ${printable(outcome)}`)} · ${printable(options.environmentLabel ?? String(document.environment))}`,
  ];
  const row = (label: string, value: unknown) => {
    // Values come from input and from the server: one line each, escapes shown (printable).
    if (value !== null && value !== undefined && value !== '')
      lines.push(`  ${label.padEnd(9)} ${printable(String(value), 500)}`);
  };
  row('user', document.user_id);
  row('job', document.smile_job_id ? `${document.job_id}  (Smile job ${document.smile_job_id})` : document.job_id);
  row('result', resultLine(document));
  if (document.liveness_frames) row('liveness', `${document.liveness_frames} frames sent with the selfie`);
  const relevant = relevantActions(document);
  if (relevant.length > 0)
    row('actions', relevant.map(([key, value]) => `${key.replace(/_/g, ' ')}: ${value}`).join(' · '));
  if (document.expected !== undefined) row('expected', document.expected);
  return lines.join('\n');
}

/** "0840 Enroll User": code and text, whichever the server gave. */
export function resultLine(document: Pick<ResultCardFields, 'result_code' | 'result_text'>): string {
  return [document.result_code, document.result_text].filter((part) => part !== null && part !== '').join(' ');
}

/** The Actions worth showing (not "Not Applicable"). */
export function relevantActions(document: Pick<ResultCardFields, 'actions'>): [string, string][] {
  return Object.entries(document.actions).filter(([, value]) => value !== 'Not Applicable');
}
