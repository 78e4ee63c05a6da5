import { describe, expect, it } from 'vitest';
import type { SelfieReport } from '../../../src/selfie/check.js';
import { renderSelfieReports, selfieReportsJson } from '../../../src/selfie/report.js';

const good: SelfieReport = {
  path: 'a.jpg',
  ok: true,
  format: 'jpeg',
  width: 640,
  height: 800,
  bytes: 73_648,
  face_check: 'passed',
  faces: 1,
  findings: [],
};
const warned: SelfieReport = {
  ...good,
  path: 'b.png',
  format: 'png',
  findings: [{ code: 'too_dark', severity: 'warning', message: 'The photo is too dark.' }],
};
const broken: SelfieReport = {
  path: 'c.jpg',
  ok: false,
  format: null,
  width: null,
  height: null,
  bytes: 0,
  face_check: null,
  faces: null,
  findings: [{ code: 'empty_file', severity: 'error', message: 'The file is empty.' }],
};

describe('renderSelfieReports', () => {
  it('prints one line per file with its findings indented, then a summary', () => {
    expect(renderSelfieReports([good, warned, broken], { color: false })).toBe(
      [
        '✓ a.jpg  JPEG 640×800, 72 KB',
        '✓ b.png  PNG 640×800, 72 KB',
        '    warning too_dark: The photo is too dark.',
        '✗ c.jpg  0 B',
        '    error   empty_file: The file is empty.',
        '3 files checked: 2 can be sent (1 with warnings), 1 has errors and would not be sent. Fix or replace it and check again.',
        '',
      ].join('\n'),
    );
    expect(renderSelfieReports([good], { color: false })).toBe(
      '✓ a.jpg  JPEG 640×800, 72 KB\n1 file checked: 1 can be sent.\n',
    );
  });

  it('uses colour only when asked', () => {
    const coloured = renderSelfieReports([good, broken], { color: true });
    expect(coloured).toContain('\u001b[32m✓\u001b[0m');
    expect(coloured).toContain('\u001b[31m✗\u001b[0m');
    // eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(renderSelfieReports([good, broken], { color: false }));
  });
});

describe('selfieReportsJson', () => {
  it('is exactly {ok, files: [{path, ok, format, width, height, bytes, face_check, faces, findings}]}', () => {
    const extra = { ...good, extra: 'not copied' } as SelfieReport;
    expect(selfieReportsJson([extra, broken])).toEqual({
      ok: false,
      files: [
        {
          path: 'a.jpg',
          ok: true,
          format: 'jpeg',
          width: 640,
          height: 800,
          bytes: 73_648,
          face_check: 'passed',
          faces: 1,
          findings: [],
        },
        {
          path: 'c.jpg',
          ok: false,
          format: null,
          width: null,
          height: null,
          bytes: 0,
          face_check: null,
          faces: null,
          findings: [{ code: 'empty_file', severity: 'error', message: 'The file is empty.' }],
        },
      ],
    });
    expect(selfieReportsJson([good]).ok).toBe(true);
    expect(selfieReportsJson([])).toEqual({ ok: true, files: [] });
  });
});
