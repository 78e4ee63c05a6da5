import { printable } from '../errors.js';
import type { LoadedSelfie, SelfieReport } from './check.js';
import type { Finding } from './rules.js';
import { formatName } from './rules.js';

export interface RenderOptions {
  color: boolean;
}

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

function paint(on: boolean, style: keyof typeof ANSI, text: string): string {
  return on ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function describe(report: SelfieReport): string {
  const parts: string[] = [];
  if (report.format !== null) parts.push(formatName(report.format));
  if (report.width !== null && report.height !== null) parts.push(`${report.width}×${report.height}`);
  const head = parts.join(' ');
  return head ? `${head}, ${humanBytes(report.bytes)}` : humanBytes(report.bytes);
}

function renderFinding(finding: Finding, color: boolean): string {
  const label = finding.severity === 'error' ? paint(color, 'red', 'error  ') : paint(color, 'yellow', 'warning');
  return `    ${label} ${paint(color, 'bold', finding.code)}: ${printable(finding.message, 1000)}`;
}

/** Human report: one line per file (✓ can be sent, ✗ cannot), its findings indented, then a summary. */
export function renderSelfieReports(reports: readonly SelfieReport[], opts: RenderOptions): string {
  const lines: string[] = [];
  for (const report of reports) {
    const mark = report.ok ? paint(opts.color, 'green', '✓') : paint(opts.color, 'red', '✗');
    // The path as given, escapes shown: this report is written to stdout without passing Output.
    lines.push(`${mark} ${printable(report.path, 500)}  ${paint(opts.color, 'dim', describe(report))}`);
    for (const finding of report.findings) lines.push(renderFinding(finding, opts.color));
  }
  const failed = reports.filter((r) => !r.ok).length;
  const warned = reports.filter((r) => r.ok && r.findings.length > 0).length;
  const files = reports.length === 1 ? '1 file' : `${reports.length} files`;
  const ok = reports.length - failed;
  let summary = `${files} checked: ${ok} can be sent`;
  if (warned > 0) summary += ` (${warned} with warnings)`;
  if (failed > 0)
    summary += `, ${failed} ${failed === 1 ? 'has' : 'have'} errors and would not be sent. Fix or replace ${failed === 1 ? 'it' : 'them'} and check again.`;
  else summary += '.';
  lines.push(failed > 0 ? paint(opts.color, 'red', summary) : summary);
  return `${lines.join('\n')}\n`;
}

export interface SelfieReportsJson {
  ok: boolean;
  /** One SelfieReport per file, in input order (the same shape, copied field by field). */
  files: SelfieReport[];
}

/** The `--json` document of `smile selfie check`: exactly `{ok, files: [{path, ok, format, width, height, bytes, face_check, faces, findings}]}`. */
export function selfieReportsJson(reports: readonly SelfieReport[]): SelfieReportsJson {
  return {
    ok: reports.every((r) => r.ok),
    files: reports.map((r) => ({
      path: r.path,
      ok: r.ok,
      format: r.format,
      width: r.width,
      height: r.height,
      bytes: r.bytes,
      face_check: r.face_check,
      faces: r.faces,
      findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
    })),
  };
}

/** The `--json` document of `smile selfie prepare`. */
export interface PreparedSelfieDocument {
  /** False when the input has errors: nothing was written. */
  ok: boolean;
  input: string;
  /** Where the JPEG went (`-`: stdout); null when nothing was written. */
  output: string | null;
  /** False when the JPEG is the input, byte for byte. */
  changed: boolean;
  changes: string[];
  width: number | null;
  height: number | null;
  /** Size of the JPEG written (0 when none). */
  bytes: number;
  source_bytes: number;
  findings: Finding[];
}

/** The document of a selfie prepared into `output`, or refused (then `output` is null: nothing was written). */
export function preparedSelfieDocument(
  input: string,
  output: string,
  { report, prepared }: LoadedSelfie,
): PreparedSelfieDocument {
  if (prepared === undefined) {
    return {
      ok: false,
      input,
      output: null,
      changed: false,
      changes: [],
      width: report.width,
      height: report.height,
      bytes: 0,
      source_bytes: report.bytes,
      findings: report.findings,
    };
  }
  return {
    ok: true,
    input,
    output,
    changed: prepared.changed,
    changes: prepared.changes,
    width: prepared.width,
    height: prepared.height,
    bytes: prepared.bytes,
    source_bytes: prepared.sourceBytes,
    findings: report.findings,
  };
}
