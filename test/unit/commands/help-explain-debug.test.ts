import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { allCodes } from '../../../src/smile/codes.js';
import { leafCommandPaths } from '../../helpers/commands.js';
import { runCli } from '../../helpers/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-help-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smile explain', () => {
  it('explains every code of the table, with meaning, finality and a next step', async () => {
    for (const info of allCodes()) {
      const run = await runCli(['explain', info.code, '--json']);
      expect(run.code, info.code).toBe(0);
      expect(run.json()).toMatchObject({
        ok: true,
        code: info.code,
        title: info.title,
        final: info.final,
        hint: info.hint,
      });
    }
  });

  it('never advises re-running with the same --job-id: register refuses an existing job id (2215)', () => {
    const promising = allCodes().filter((info) => /same --job-id/.test(info.hint));
    expect(promising.map((info) => info.code)).toEqual([]);
  });

  it('covers the codes of smile-api.md §6 and the HTTP/S3 errors the tool meets', async () => {
    const codes = new Set(allCodes().map((info) => info.code));
    for (const code of [
      '0810',
      '0814',
      '1210',
      '0840',
      '0841',
      '0820',
      '0821',
      '0907',
      '0903',
      '0001',
      '2201',
      '2202',
      '2203',
      '2204',
      '2205',
      '2207',
      '2208',
      '2209',
      '2210',
      '2211',
      '2212',
      '2213',
      '2214',
      '2215',
      '2216',
      '2220',
      '2221',
      '2301',
      '2314',
      '2401',
      '2405',
      '2413',
      '2414',
      '400',
      '401',
      '403',
      '404',
      '408',
      '429',
      '500',
      '502',
      '503',
      '504',
      'AccessDenied',
      'SignatureDoesNotMatch',
    ]) {
      expect(codes.has(code), code).toBe(true);
    }
  });

  it('prints a human explanation, marks unverified codes, and accepts a result code without its leading zero', async () => {
    const run = await runCli(['explain', '2209']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^2209 · User already enrolled\n/);
    expect(run.stdout).toContain('Final: retrying the same request will not change it.');
    expect(run.stdout).toMatch(/Next: .*--allow-re-enroll/);
    expect((await runCli(['explain', '0841'])).stdout).toContain('(not confirmed by Smile ID docs)');
    expect((await runCli(['explain', '810'])).stdout).toMatch(/^0810 · Enroll User/);
    expect((await runCli(['explain', 'accessdenied'])).stdout).toMatch(/^AccessDenied/);
    expect((await runCli(['explain', '429'])).stdout).toContain('Not final: retrying or waiting can help.');
  });

  it('says so for an unknown code (exit 2, JSON error with --json)', async () => {
    const run = await runCli(['explain', '9999']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/9999 is not a code smile knows/);
    const json = await runCli(['explain', 'nope', '--json']);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'unknown_code' } });
  });
});

describe('help', () => {
  it('has the exit-codes and environment topics', async () => {
    const codes = await runCli(['help', 'exit-codes']);
    expect(codes.code).toBe(0);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '4 ', '5 ', '6 ', '7 ', '8 ', '9 ', '130 '])
      expect(codes.stdout).toMatch(new RegExp(`^  ${code}`, 'm'));
    const environment = await runCli(['help', 'environment']);
    for (const name of [
      'SMILE_PROFILE',
      'SMILE_ENV',
      'SMILE_PARTNER_ID',
      'SMILE_API_KEY',
      'SMILE_API_KEY_FILE',
      'SMILE_BASE_URL',
      'SMILE_CALLBACK_URL',
      'SMILE_CONFIG_DIR',
      'SMILE_NO_INPUT',
      'SMILE_SHARD',
      'NO_COLOR',
    ])
      expect(environment.stdout).toContain(name);
  });

  it('shows examples in every command help, also through `smile help COMMAND`', async () => {
    // Every command that runs something, found from the help itself; `help` is the help, not a command with examples.
    const leaves = (await leafCommandPaths()).filter((path) => path.join(' ') !== 'help');
    // The commands of product.md: if discovery found almost nothing, it is broken.
    expect(leaves.map((path) => path.join(' '))).toEqual(
      expect.arrayContaining([
        'register',
        'status',
        'bulk',
        'selfie check',
        'profile add',
        'callback listen',
        'completion',
      ]),
    );
    for (const path of leaves) {
      const run = await runCli([...path, '--help']);
      expect(run.code, path.join(' ')).toBe(0);
      expect(run.stdout, path.join(' ')).toMatch(/Examples:\n {2}\$ .*smile /);
    }
    const viaHelp = await runCli(['help', 'callback', 'listen']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/Usage: smile callback listen/);
    expect(viaHelp.stdout).toContain('Examples:');
    expect((await runCli(['help', 'nothing-like-this'])).code).toBe(2);
  });

  it('suggests the right command or option for a typo (exit 2)', async () => {
    const command = await runCli(['regster']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/Did you mean register\?/);
    const option = await runCli(['register', '--usr-id', 'u']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/Did you mean --user-id\?/);
    const json = await runCli(['doctr', '--json']);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'usage' } });
  });
});

describe('smile completion', () => {
  async function complete(line: string): Promise<string[]> {
    const script = join(dir, 'smile.bash');
    await writeFile(script, (await runCli(['completion', 'bash'])).stdout);
    const words = line.split(' ');
    const program = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((word) => JSON.stringify(word)).join(' ')}); COMP_CWORD=${words.length - 1}; _smile_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', program], { encoding: 'utf8', cwd: dir }).split('\n').filter(Boolean);
  }

  it('prints valid bash that completes commands, subcommands and options', async () => {
    expect(await complete('smile ')).toEqual(expect.arrayContaining(['register', 'doctor', 'callback', 'profile']));
    expect(await complete('smile do')).toEqual(['doctor']);
    expect(await complete('smile callback ')).toEqual(expect.arrayContaining(['verify', 'listen']));
    expect(await complete('smile callback listen --f')).toEqual(['--forward']);
    expect(await complete('smile register --user-id u-1 --sel')).toEqual(['--selfie']);
    expect(await complete('smile profile add x --api')).toEqual(['--api-key-file']);
  });

  it('prints zsh and fish scripts naming every command, and refuses other shells (exit 2)', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef smile/);
    expect(zsh.stdout).not.toMatch(/local path/);
    expect(zsh.stdout).toContain('"callback listen") cmdpath=$candidate');
    const fish = await runCli(['completion', 'fish']);
    expect(fish.stdout).toMatch(/complete -c smile -n '__smile_is ""' -f -a '[^']*\bdoctor\b/);
    expect(fish.stdout).toContain(`complete -c smile -n '__smile_is "callback listen"' -l forward`);
    expect((await runCli(['completion', 'powershell'])).code).toBe(2);
  });
});

describe('--debug', () => {
  let emulator: RunningEmulator;
  const KEY = 'debug-trace-key-7d3a9b1c44';
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, apiKey: KEY, processingMs: 50 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('traces every request and response on stderr with the key, signatures and image bytes redacted', async () => {
    const run = await runCli(
      ['register', '--debug', '--user-id', 'debug-user', '--selfie', 'fixtures/selfies/demo.jpg', '--json'],
      {
        env: {
          SMILE_PARTNER_ID: '085',
          SMILE_API_KEY: KEY,
          SMILE_BASE_URL: emulator.baseUrl,
          SMILE_CONFIG_DIR: join(dir, 'none'),
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const trace = run.stderr.split('\n').filter((line) => line.startsWith('[debug]'));
    expect(trace.some((line) => /→ POST http:\/\/127\.0\.0\.1:\d+\/v1\/upload /.test(line))).toBe(true);
    expect(trace.some((line) => /← 200 POST .*\/v1\/upload/.test(line))).toBe(true);
    expect(trace.some((line) => /→ PUT .*<zip \d+ bytes>/.test(line))).toBe(true);
    expect(trace.some((line) => /→ POST .*\/v1\/job_status /.test(line))).toBe(true);
    expect(trace.some((line) => /← 200 POST .*\/v1\/job_status/.test(line))).toBe(true);
    expect(run.stderr).toContain('"signature":"[redacted]"');
    expect(run.stderr).toMatch(/Signature=(%5B|\[)redacted/);
    expect(run.stderr).not.toContain(KEY);
    // No signature a request or a response carried (base64 of 32 bytes) is in the trace.
    expect(run.stderr).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    // stdout is still exactly one JSON document.
    expect(run.json()).toMatchObject({ outcome: 'approved' });
  });

  it("traces doctor's signed round trip the same way", async () => {
    const run = await runCli(['doctor', '--debug'], {
      env: {
        SMILE_PARTNER_ID: '085',
        SMILE_API_KEY: KEY,
        SMILE_BASE_URL: emulator.baseUrl,
        SMILE_CONFIG_DIR: join(dir, 'none'),
      },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\[debug\] → POST .*\/v1\/job_status .*"signature":"\[redacted\]"/);
    expect(run.stderr).toMatch(/\[debug\] ← 404 POST/);
    expect(run.stderr + run.stdout).not.toContain(KEY);
  });
});
