// Services behind `smile selfie check` and `smile selfie prepare`. They know nothing of commander:
// the command files parse flags and call these with plain options and the streams to write to.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { ExitCode, InputError, UsageError, fileErrorReason, printable } from '../errors.js';
import { jsonText } from '../output/output.js';
import { checkSelfieFiles, loadSelfieForUpload } from './check.js';
import { renderSelfieReports, selfieReportsJson } from './report.js';
import type { SelfieKind } from './rules.js';

export interface SelfieIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface SelfieCheckOptions {
  json: boolean;
  color: boolean;
  kind?: SelfieKind;
  concurrency?: number;
}

/** `smile selfie check FILE...`: the report (human or one JSON document) on stdout; exit 0, or 4 when any file has an error. */
export async function runSelfieCheck(files: string[], opts: SelfieCheckOptions, io: SelfieIo): Promise<number> {
  if (files.length === 0) throw new UsageError('No files to check.', { hint: 'Pass one or more image files: smile selfie check selfie.jpg' });
  const reports = await checkSelfieFiles(files, { kind: opts.kind ?? 'selfie', concurrency: opts.concurrency });
  if (opts.json) io.stdout.write(`${JSON.stringify(selfieReportsJson(reports), null, 2)}\n`);
  else io.stdout.write(renderSelfieReports(reports, { color: opts.color }));
  return reports.every((r) => r.ok) ? ExitCode.ok : ExitCode.input;
}

export interface SelfiePrepareOptions {
  json: boolean;
  kind?: SelfieKind;
  color?: boolean;
}

/**
 * `smile selfie prepare IN OUT`: writes the JPEG that register would send (OUT `-` = stdout).
 * With `--json`, stdout gets `{ok, input, output, changed, changes, width, height, bytes,
 * sourceBytes, findings}`. When IN has errors nothing is written and the exit code is 4.
 */
export async function runSelfiePrepare(input: string, output: string, opts: SelfiePrepareOptions, io: SelfieIo): Promise<number> {
  const toStdout = output === '-';
  if (toStdout && opts.json) throw new UsageError('--json and OUT "-" both need stdout.', { hint: 'Write the JPEG to a file, or leave out --json.' });
  const kind = opts.kind ?? 'selfie';
  const { report, jpeg, prepared } = await loadSelfieForUpload(input, { kind });
  if (jpeg === undefined || prepared === undefined) {
    if (opts.json) {
      io.stdout.write(`${jsonText({ ok: false, input, output: null, changed: false, changes: [], width: report.width, height: report.height, bytes: 0, sourceBytes: report.bytes, findings: report.findings }, 2)}\n`);
    } else {
      io.stderr.write(renderSelfieReports([report], { color: opts.color ?? false }));
      io.stderr.write(`Nothing written to ${printable(output)}.\n`);
    }
    return ExitCode.input;
  }
  if (toStdout) io.stdout.write(jpeg);
  else await writeFileAtomically(output, jpeg);
  if (opts.json) {
    const { changed, changes, width, height, bytes, sourceBytes } = prepared;
    io.stdout.write(`${jsonText({ ok: true, input, output, changed, changes, width, height, bytes, sourceBytes, findings: report.findings }, 2)}\n`);
  } else {
    const what = `JPEG ${prepared.width}×${prepared.height}, ${prepared.bytes} bytes`;
    const how = prepared.changed ? `: ${prepared.changes.join('; ')}` : ' (the input, byte for byte)';
    io.stderr.write(`Wrote ${toStdout ? 'stdout' : printable(output)}: ${what}${how}.\n`);
    for (const finding of report.findings) io.stderr.write(`  ${finding.severity} ${finding.code}: ${finding.message}\n`);
  }
  return ExitCode.ok;
}

/** Writes to a temporary file next to `path`, then renames it: OUT is never left half-written. */
async function writeFileAtomically(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw new InputError(`Cannot write ${printable(path)}: ${fileErrorReason(error)}.`, { cause: error, hint: 'Check that the directory exists and is writable.' });
  }
}
