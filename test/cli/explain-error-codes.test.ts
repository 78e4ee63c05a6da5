/**
 * Issue 15 item 8: `smile explain` knows every error and warning code smile gives of its own. The
 * codes are read from the syntax tree of src/ (test/helpers/error-codes-in-source.ts), not from a
 * list kept by hand: a new `code: 'x'` without an entry in src/commands/error-codes.ts fails here.
 */
import { describe, expect, it } from 'vitest';
import { findSmileCode, smileCodes } from '../../src/commands/error-codes.js';
import { findingCodes } from '../../src/selfie/finding-info.js';
import { findCode } from '../../src/smile/codes.js';
import { errorCodesInSource, type CodeSite } from '../helpers/error-codes-in-source.js';
import { runCli } from '../helpers/run-cli.js';

const sites = errorCodesInSource();
const findings = new Set<string>(findingCodes());
/** A template's codes: each concrete code it can make, as the table names them. */
const TEMPLATES: Record<string, string[]> = {
  'http_${…}': ['http_401', 'http_403', 'http_404', 'http_500', 'http_503'],
  'selfie_${…}': [...findings].map((code) => `selfie_${code}`).filter((code) => findSmileCode(code) !== undefined),
  '${…}_write': ['report_write', 'rejects_write'],
};
/** The codes of the source, templates expanded. */
function sourceCodes(): string[] {
  const codes = new Set<string>();
  for (const { code } of sites)
    for (const one of code.includes('${…}') ? (TEMPLATES[code] ?? [code]) : [code]) codes.add(one);
  return [...codes].sort();
}

describe('the codes in src/', () => {
  it('are found: the ones issue 15 names, templates included', () => {
    const codes = sites.map((site) => site.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'no_credentials',
        'journal_locked',
        'bad_api_key_file',
        'insecure_url',
        'stale_signature',
      ]),
    );
    expect(codes).toEqual(expect.arrayContaining(['deadline', 'http_404', 'shard_index_missing', 'history_empty']));
    expect(codes).toEqual(expect.arrayContaining(['filter_failed', 'network', 'timeout', 'http_${…}', 'selfie_${…}']));
    // The defaults of errors.ts and the row codes passed as arguments are found too.
    expect(codes).toEqual(
      expect.arrayContaining(['usage', 'not_final', 'invalid_row', 'stray_quote', 'journal_lock_io']),
    );
    expect(sites.length).toBeGreaterThan(100);
  });

  it('every template is one this test knows how to expand', () => {
    for (const site of sites.filter((one) => one.code.includes('${…}')))
      expect(Object.keys(TEMPLATES), `${site.code} at ${site.where}`).toContain(site.code);
    expect(TEMPLATES['selfie_${…}']!.length).toBeGreaterThan(10);
  });

  it('every code that is not a selfie check has an entry in the table', () => {
    const missing = sourceCodes().filter((code) => !findings.has(code) && findSmileCode(code) === undefined);
    expect(missing).toEqual([]);
  });

  it('every entry of the table is given somewhere in src/ (no stale entry)', () => {
    const given = new Set(sourceCodes());
    const stale = smileCodes()
      .map((entry) => entry.code)
      .filter((code) => code !== 'http_NNN' && !given.has(code));
    expect(stale).toEqual([]);
  });

  it("the table's exit codes include the exit of every site that names its error class", () => {
    const wrong = sites
      .filter((site): site is CodeSite & { exit: number } => site.exit !== undefined && !findings.has(site.code))
      .flatMap((site) =>
        (TEMPLATES[site.code] ?? [site.code])
          .filter((code) => !findSmileCode(code)!.exit.includes(site.exit))
          .map((code) => `${code} exits ${site.exit} at ${site.where}`),
      );
    expect(wrong).toEqual([]);
  });

  it('no entry shadows a Smile ID code (codes.ts is asked first)', () => {
    expect(smileCodes().filter((entry) => findCode(entry.code) !== undefined)).toEqual([]);
  });
});

describe('smile explain CODE', () => {
  it('explains every code of the source (exit 0, --json)', async () => {
    for (const code of sourceCodes()) {
      const run = await runCli(['explain', code, '--json']);
      expect(run.code, code).toBe(0);
      const doc = run.json() as { ok: boolean; code: string; family: string };
      expect(doc.ok, code).toBe(true);
      expect(doc.family, code).toBe(findings.has(code) ? 'selfie' : 'smile');
    }
  });

  it('journal_locked, as text', async () => {
    const run = await runCli(['explain', 'journal_locked']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'journal_locked · journal in use (smile error)',
        '  Another smile bulk (on this machine, or on another one sharing the file) holds the lock of this journal; two runs on one journal would send rows twice.',
        '  Exit 2 (usage).',
        '  Next: Wait for it to finish (or stop it: the message gives its pid), then run again with --resume. If it is gone for good, remove the lock file the message names.',
        '',
      ].join('\n'),
    );
  });

  it('journal_locked --json has the shape of the other kinds', async () => {
    const run = await runCli(['explain', 'journal_locked', '--json']);
    expect(run.json()).toEqual({
      ok: true,
      code: 'journal_locked',
      family: 'smile',
      kind: 'error',
      title: 'journal in use',
      meaning:
        'Another smile bulk (on this machine, or on another one sharing the file) holds the lock of this journal; two runs on one journal would send rows twice.',
      hint: 'Wait for it to finish (or stop it: the message gives its pid), then run again with --resume. If it is gone for good, remove the lock file the message names.',
      exit_codes: [2],
    });
  });

  it('any http_NNN, names its status; a row reason and a warning say what they do to the run', async () => {
    const http = await runCli(['explain', 'http_502', '--json']);
    expect(http.json()).toMatchObject({ code: 'http_502', family: 'smile', exit_codes: [3, 5] });
    expect((http.json() as { meaning: string }).meaning).toMatch(/^The server answered HTTP 502 /);
    expect((await runCli(['explain', 'stray_quote'])).stdout).toContain(
      '  Bulk row: exit 4 when every row is invalid, else 6 (5 wins when other rows need a re-run).\n',
    );
    expect((await runCli(['explain', 'altitude_not_sent'])).stdout).toMatch(/^ {2}Warning: the command goes on/m);
    expect((await runCli(['explain', 'HTTP-404', '--json'])).json()).toMatchObject({ code: 'http_404' });
  });

  it('selfie_<check> (smile selfie prepare) is explained in the words of the check', async () => {
    const run = await runCli(['explain', 'selfie_no_face', '--json']);
    expect(run.json()).toMatchObject({ code: 'selfie_no_face', family: 'smile', exit_codes: [4] });
    expect((run.json() as { title: string }).title).toContain('no_face');
    // A warning check never fails prepare: there is no selfie_<warning> code.
    expect((await runCli(['explain', 'selfie_face_check_skipped'])).code).toBe(2);
  });

  it('unreadable is a selfie check and an error of report/callback verify: both are shown', async () => {
    const run = await runCli(['explain', 'unreadable', '--json']);
    expect(run.json()).toMatchObject({
      code: 'unreadable',
      family: 'selfie',
      also: { family: 'smile', exit_codes: [4] },
    });
    expect((await runCli(['explain', 'unreadable'])).stdout).toContain(
      '\nAlso:\nunreadable · file cannot be read (smile error)\n',
    );
  });

  it('did you mean covers them', async () => {
    const typos: [string, string][] = [
      ['journal_lock', 'journal_locked'],
      ['no_credential', 'no_credentials'],
      ['stale-signatur', 'stale_signature'],
    ];
    for (const [typo, meant] of typos) {
      const run = await runCli(['explain', typo]);
      expect(run.code, typo).toBe(2);
      expect(run.stderr, typo).toContain(`Did you mean ${meant}`);
    }
  });
});
