import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { verifySignature } from '../../../src/smile/sign.js';
import { runCliOnStreams } from '../../helpers/run-command.js';
import { ids, jobStatus, makeZip, prepUpload, putZip, register, waitForResult } from './helpers.js';
import { until } from '../../helpers/wait-for.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'smile-emu-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('stateFile', () => {
  it('survives a restart: enrolled users, finished jobs, pending uploads, the smile_job_id counter', async () => {
    const stateFile = join(tempDir(), 'nested', 'state.json');
    const first = await startEmulator({ stateFile, processingMs: 1 });
    const enrolled = ids();
    await register(first, enrolled);
    const pending = ids();
    const prep = await prepUpload(first, pending);
    await first.close();
    // An append-only JSONL log since issue 9 item 12 (was one JSON document, version 1).
    expect(JSON.parse(readFileSync(stateFile, 'utf8').split('\n')[0] ?? '')).toMatchObject({ t: 'header', version: 2 });

    const second = await startEmulator({ stateFile, processingMs: 1, port: 0 });
    try {
      expect(second.state.users.get(enrolled.userId)?.enrolled).toBe(true);
      expect(
        (await prepUpload(second, { userId: enrolled.userId, jobId: `${enrolled.jobId}-again` })).body,
      ).toMatchObject({ code: '2209' });
      const old = await jobStatus(second, enrolled.userId, enrolled.jobId, { image_links: true });
      expect(old.body).toMatchObject({ job_complete: true, job_success: true });
      expect(verifySignature(second.apiKey, second.partnerId, old.body.timestamp, old.body.signature)).toBe(true);
      expect((await fetch(old.body.image_links?.selfie_image?.replace(first.origin, second.origin) ?? '')).status).toBe(
        200,
      );
      // The upload URL issued before the restart still works once rebased on the new port.
      const url = prep.body.upload_url.replace(first.origin, second.origin);
      expect((await putZip(url, makeZip())).status).toBe(200);
      expect((await waitForResult(second, pending.userId, pending.jobId)).job_success).toBe(true);
      const next = await prepUpload(second, ids());
      expect(Number(next.body.smile_job_id)).toBe(Number(prep.body.smile_job_id) + 1);
    } finally {
      await second.close();
    }
  });

  it('finishes a job that was still processing when the emulator stopped', async () => {
    const stateFile = join(tempDir(), 'state.json');
    const first = await startEmulator({ stateFile, processingMs: 60_000 });
    const { userId, jobId } = ids();
    const prep = await prepUpload(first, { userId, jobId, sandboxResult: '1' });
    await putZip(prep.body.upload_url, makeZip());
    await first.close();
    // Move the saved job's due time to now: its last record in the log wins.
    const records = readFileSync(stateFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { t: string; v?: { jobId: string; readyAt: number } });
    const saved = records.filter((r) => r.t === 'job' && r.v?.jobId === jobId).at(-1);
    expect(saved).toBeDefined();
    if (saved?.v) saved.v.readyAt = Date.now();
    writeFileSync(stateFile, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const second = await startEmulator({ stateFile });
    try {
      const done = await waitForResult(second, userId, jobId);
      expect(done).toMatchObject({ job_complete: true, job_success: false });
    } finally {
      await second.close();
    }
  });

  it('refuses a state file that is not JSON, with a hint', async () => {
    const stateFile = join(tempDir(), 'state.json');
    writeFileSync(stateFile, '{oops');
    await expect(startEmulator({ stateFile })).rejects.toBeInstanceOf(InputError);
  });
});

describe('tls', () => {
  function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves https with a CA the client can trust, for 127.0.0.1 and localhost', async () => {
    const emu = await startEmulator({ tls: true });
    const caPath = emu.caCertPath ?? '';
    try {
      expect(emu.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1$/);
      const ca = readFileSync(caPath);
      expect(new X509Certificate(ca).ca).toBe(true);
      expect((await httpsGet(`${emu.baseUrl}/services`, ca)).status).toBe(200);
      expect((await httpsGet(`${emu.baseUrl.replace('127.0.0.1', 'localhost')}/services`, ca)).status).toBe(200);
      await expect(httpsGet(`${emu.baseUrl}/services`, Buffer.from(''))).rejects.toThrow();
    } finally {
      await emu.close();
    }
    expect(existsSync(caPath)).toBe(false);
  });

  it('writes into certDir and reuses a still-valid certificate there', async () => {
    const certDir = tempDir();
    const a = await startEmulator({ tls: true, certDir });
    const caA = readFileSync(a.caCertPath ?? '', 'utf8');
    await a.close();
    expect(existsSync(join(certDir, 'ca.pem'))).toBe(true);
    const b = await startEmulator({ tls: true, certDir });
    try {
      expect(readFileSync(b.caCertPath ?? '', 'utf8')).toBe(caA);
    } finally {
      await b.close();
    }
  });
});

describe('options', () => {
  it('refuses a port in use and bad numbers with a UsageError', async () => {
    const emu = await startEmulator();
    try {
      const port = Number(new URL(emu.origin).port);
      await expect(startEmulator({ port })).rejects.toBeInstanceOf(UsageError);
      await expect(startEmulator({ processingMs: -1 })).rejects.toBeInstanceOf(UsageError);
      await expect(startEmulator({ port: 70000 })).rejects.toBeInstanceOf(UsageError);
    } finally {
      await emu.close();
    }
  });

  it('uses the given partner id and key', async () => {
    const emu = await startEmulator({ partnerId: '2001', apiKey: 'k-123', processingMs: 1 });
    try {
      expect(emu).toMatchObject({ partnerId: '2001', apiKey: 'k-123' });
      expect((await register(emu, ids())).job_success).toBe(true);
    } finally {
      await emu.close();
    }
  });
});

describe('smile emulator', () => {
  function capture(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  }

  it('--json prints exactly one JSON line, serves until the signal aborts, then returns 0', async () => {
    const out = capture();
    const err = capture();
    const controller = new AbortController();
    const running = runCliOnStreams(
      ['emulator', '--json', '--processing-ms', '1', '--fault-rate', '0'],
      { stdout: out.stream, stderr: err.stream },
      { signal: controller.signal },
    );
    const line = await until(() => (out.text().includes('\n') ? out.text() : undefined));
    expect(line.trim().split('\n')).toHaveLength(1);
    const info = JSON.parse(line) as Record<string, string>;
    expect(Object.keys(info)).toEqual(['base_url', 'partner_id', 'api_key']);
    expect(info.base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const services = await fetch(`${info.base_url}/services`);
    expect(services.status).toBe(200);
    expect(err.text()).toContain('emulator');
    controller.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${info.base_url}/services`)).rejects.toThrow();
    expect(out.text()).toBe(line);
  });

  it('prints ca_cert with --tls, and a readable line without --json', async () => {
    const out = capture();
    const err = capture();
    const controller = new AbortController();
    const running = runCliOnStreams(
      ['emulator', '--json', '--tls'],
      { stdout: out.stream, stderr: err.stream },
      { signal: controller.signal },
    );
    const info = JSON.parse(await until(() => (out.text().includes('\n') ? out.text() : undefined))) as Record<
      string,
      string
    >;
    expect(info.ca_cert).toMatch(/ca\.pem$/);
    expect(info.base_url).toMatch(/^https:/);
    controller.abort();
    expect(await running).toBe(0);

    const plain = capture();
    const done = new AbortController();
    const running2 = runCliOnStreams(
      ['emulator', '--rate-limit-rate', '0.5', '--retry-after', '2'],
      { stdout: plain.stream, stderr: err.stream },
      { signal: done.signal },
    );
    const text = await until(() => (plain.text().includes('\n') ? plain.text() : undefined));
    expect(text).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1 {2}partner_id=085 {2}api_key=\S+\n$/);
    expect(err.text()).toContain('rateLimitRate=0.5');
    done.abort();
    expect(await running2).toBe(0);
  });
});
