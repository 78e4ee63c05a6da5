// Fidelity: the official Node SDK (smile-identity-core, which forces https) registers users against the emulator unchanged.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { childEnv } from '../helpers/child-env.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./sdk-submit.mjs', import.meta.url));

interface Outcome {
  ok: boolean;
  result?: {
    job_complete: boolean;
    job_success: boolean;
    code: string;
    result: Record<string, unknown>;
    timestamp: string;
    signature: string;
  };
  message?: string;
  status?: number;
  data?: { code: string; error: string };
}

let emu: RunningEmulator;
let dir: string;
let selfie: string;

beforeAll(async () => {
  // processingMs long enough that the SDK's first job_status sees an unfinished job and has to poll (2 s sleeps).
  emu = await startEmulator({ tls: true, processingMs: 300 });
  dir = mkdtempSync(join(tmpdir(), 'smile-compat-'));
  selfie = join(dir, 'selfie.jpg');
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 190, g: 140, b: 120 } } })
    .jpeg()
    .toBuffer();
  writeFileSync(selfie, jpeg);
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('smile-identity-core WebApi against the emulator (https)', () => {
  it(
    'registers two users (job_type 4, selfie file) and refuses a second registration with 2209',
    { timeout: 90_000 },
    async () => {
      const a = { user_id: `user-${randomUUID()}`, job_id: `job-${randomUUID()}`, selfie };
      const b = { user_id: `user-${randomUUID()}`, job_id: `job-${randomUUID()}`, selfie };
      const again = { user_id: a.user_id, job_id: `job-${randomUUID()}`, selfie };
      const spec = { partnerId: emu.partnerId, apiKey: emu.apiKey, baseUrl: emu.baseUrl, jobs: [a, b, again] };
      const { stdout } = await run(process.execPath, [script, JSON.stringify(spec)], {
        env: childEnv(dir, { NODE_EXTRA_CA_CERTS: emu.caCertPath }),
        timeout: 80_000,
      });
      const [first, second, third] = JSON.parse(stdout) as Outcome[];

      for (const [outcome, job] of [
        [first, a],
        [second, b],
      ] as const) {
        expect(outcome?.ok, outcome?.message).toBe(true);
        expect(outcome?.result).toMatchObject({ job_complete: true, job_success: true, code: '2302' });
        expect(outcome?.result?.result).toMatchObject({
          ResultCode: '0840',
          PartnerParams: { user_id: job.user_id, job_id: job.job_id, job_type: '4' },
        });
        const stored = emu.state.jobs.get(job.job_id);
        expect(stored?.zip?.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
        expect(stored?.zip?.entries).toContain('selfie.jpg');
        expect(stored?.zip?.entries).toContain('info.json');
        expect(stored?.prepUploads[0]).toMatchObject({
          source_sdk: 'javascript',
          smile_client_id: emu.partnerId,
          file_name: 'selfie.zip',
        });
        expect((stored?.zip?.info as { package_information: { language: string } }).package_information.language).toBe(
          'javascript',
        );
        expect(emu.state.users.get(job.user_id)?.enrolled).toBe(true);
      }
      // The SDK verified every job_status signature itself (it throws otherwise).
      const polls = emu.state.requests.filter((r) => r.path === '/v1/job_status' && r.jobId === a.job_id);
      expect(polls.length).toBeGreaterThanOrEqual(1);
      expect(polls.every((r) => r.status === 200)).toBe(true);

      expect(third?.ok).toBe(false);
      expect(third?.status).toBe(400);
      expect(third?.data).toMatchObject({ code: '2209' });
      expect(emu.state.jobs.has(again.job_id)).toBe(false);
    },
  );
});
