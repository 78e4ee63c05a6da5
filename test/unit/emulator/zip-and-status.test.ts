import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { strToU8, zipSync } from 'fflate';
import { signedFields, verifySignature } from '../../../src/smile/sign.js';
import type { ResultObject } from '../../../src/smile/types.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import {
  FAKE_JPEG,
  PNG_BYTES,
  ids,
  jobStatus,
  makeZip,
  postJson,
  prepUpload,
  putZip,
  register,
  waitForResult,
} from './helpers.js';
import { until } from '../../helpers/wait-for.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ processingMs: 20 });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  vi.useRealTimers();
});

async function prepared(): Promise<{ userId: string; jobId: string; url: string }> {
  const { userId, jobId } = ids();
  const prep = await prepUpload(emu, { userId, jobId });
  expect(prep.status).toBe(200);
  return { userId, jobId, url: prep.body.upload_url };
}

const resultOf = (value: unknown): ResultObject => value as ResultObject;

describe('PUT upload_url', () => {
  it('answers 403 with an S3-like XML body without Content-Type application/zip', async () => {
    const { url, jobId } = await prepared();
    for (const type of [null, 'application/octet-stream', 'application/json']) {
      const res = await putZip(url, makeZip(), type);
      expect(res.status, String(type)).toBe(403);
      expect(res.text).toContain('<Error><Code>SignatureDoesNotMatch</Code>');
    }
    expect(emu.state.jobs.get(jobId)?.zip).toBeNull();
    expect((await putZip(url, makeZip(), 'application/zip; charset=binary')).status).toBe(200);
  });

  it('answers 403 to a tampered signature, another Expires, an unknown ref, and a GET', async () => {
    const { url } = await prepared();
    const tampered = new URL(url);
    tampered.searchParams.set('Signature', 'AAAA');
    expect((await putZip(tampered.toString(), makeZip())).status).toBe(403);
    const later = new URL(url);
    later.searchParams.set('Expires', String(Number(later.searchParams.get('Expires')) + 10));
    expect((await putZip(later.toString(), makeZip())).status).toBe(403);
    const unknown = new URL(url);
    unknown.pathname = '/_uploads/085-0000000000-ffff/selfie.zip';
    const res = await putZip(unknown.toString(), makeZip());
    expect(res.status).toBe(403);
    expect(res.text).toContain('AccessDenied');
    expect((await fetch(url)).status).toBe(403);
  });

  it('answers 403 once the URL has expired', async () => {
    const { url, jobId } = await prepared();
    // Only Date is faked (timers stay real), so the in-process server sees a clock two hours on.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000);
    const res = await putZip(url, makeZip()).finally(() => vi.useRealTimers());
    expect(res.status).toBe(403);
    expect(res.text).toContain('Request has expired');
    expect(emu.state.jobs.get(jobId)?.zip).toBeNull();
  });

  it('keeps what arrived: info.json, entry names and sizes', async () => {
    const { url, jobId } = await prepared();
    const zip = makeZip({
      images: [
        { image_type_id: 0, image: '', file_name: 'selfie.jpg' },
        { image_type_id: 4, file_name: 'liveness-1.jpg' },
      ],
      files: { 'selfie.jpg': FAKE_JPEG, 'liveness-1.jpg': FAKE_JPEG },
    });
    expect((await putZip(url, zip)).status).toBe(200);
    const job = emu.state.jobs.get(jobId);
    expect(job?.zip?.entries.sort()).toEqual(['info.json', 'liveness-1.jpg', 'selfie.jpg']);
    expect(job?.zip?.entrySizes['selfie.jpg']).toBe(FAKE_JPEG.length);
    expect(job?.zip?.bytes).toBe(zip.length);
    expect(job?.zip?.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
    expect(job?.zip?.livenessFrames).toBe(1);
    expect((job?.zip?.info as { images: unknown[] }).images).toHaveLength(2);
    expect(emu.state.selfieOf(jobId)).toEqual(FAKE_JPEG);
  });
});

describe('POST /v1/job_status', () => {
  it('answers 2314 "No zip file received" before the PUT, signed', async () => {
    const { userId, jobId } = await prepared();
    const res = await jobStatus(emu, userId, jobId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      job_complete: false,
      job_success: false,
      code: '2314',
      result: 'No zip file received',
    });
    expect(verifySignature(emu.apiKey, emu.partnerId, res.body.timestamp, res.body.signature)).toBe(true);
  });

  it('answers job_complete false with a null result while processing, then the final result', async () => {
    const slow = await startEmulator({ processingMs: 60_000 });
    try {
      const { userId, jobId } = ids();
      const prep = await prepUpload(slow, { userId, jobId });
      await putZip(prep.body.upload_url, makeZip());
      const res = await jobStatus(slow, userId, jobId);
      expect(res.body).toMatchObject({ job_complete: false, job_success: false, code: '2302', result: null });
      expect(verifySignature(slow.apiKey, slow.partnerId, res.body.timestamp, res.body.signature)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('answers an approved JT4 with the §5.2 result shape, every response freshly signed', async () => {
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId, sandboxResult: '0' });
    expect(done).toMatchObject({ job_complete: true, job_success: true, code: '2302' });
    const result = resultOf(done.result);
    expect(result).toEqual({
      Actions: {
        Human_Review_Compare: 'Not Applicable',
        Human_Review_Liveness_Check: 'Not Applicable',
        Human_Review_Update_Selfie: 'Not Applicable',
        Liveness_Check: 'Not Applicable',
        Register_Selfie: 'Approved',
        Selfie_Provided: 'Passed',
      },
      ConfidenceValue: '100',
      IsFinalResult: 'true',
      IsMachineResult: 'true',
      JSONVersion: '1.0.0',
      PartnerParams: { user_id: userId, job_id: jobId, job_type: '4', sandbox_result: '0' },
      ResultCode: '0840',
      ResultText: 'Enroll User',
      ResultType: 'SAIA',
      SmileJobID: emu.state.jobs.get(jobId)?.smileJobId,
      Source: 'WebAPI',
    });
    const again = await jobStatus(emu, userId, jobId);
    expect(verifySignature(emu.apiKey, emu.partnerId, again.body.timestamp, again.body.signature)).toBe(true);
    expect(verifySignature('other-key', emu.partnerId, again.body.timestamp, again.body.signature)).toBe(false);
  });

  it('says Liveness_Check Passed when liveness frames came (files type 4 or base64 type 6)', async () => {
    const b64 = Buffer.from(FAKE_JPEG).toString('base64');
    const zip = makeZip({
      images: [
        { image_type_id: 2, image: b64, file_name: '' },
        { image_type_id: 6, image: b64 },
      ],
      files: {},
    });
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId, zip });
    expect(done.job_success).toBe(true);
    expect(resultOf(done.result).Actions?.Liveness_Check).toBe('Passed');
    expect(emu.state.jobs.get(jobId)?.zip?.selfie).toEqual({ source: 'base64' });
  });

  it('checks the signature and required fields like /v1/upload, and 404s an unknown job', async () => {
    const { userId, jobId } = await prepared();
    const bad = await postJson(`${emu.baseUrl}/job_status`, {
      partner_id: emu.partnerId,
      user_id: userId,
      job_id: jobId,
      ...signedFields('wrong', emu.partnerId),
    });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ code: '2205', error: 'You are not authorized to do that' });
    const noJob = await postJson(`${emu.baseUrl}/job_status`, {
      partner_id: emu.partnerId,
      user_id: userId,
      ...signedFields(emu.apiKey, emu.partnerId),
    });
    expect(noJob.status).toBe(400);
    expect(noJob.body).toMatchObject({ code: '2213' });
    const unknown = await jobStatus(emu, userId, 'job-unknown');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: '2303', error: 'Job not found' });
    const otherUser = await jobStatus(emu, 'someone-else', jobId);
    expect(otherUser.status).toBe(404);
    const notJson = await postJson(`${emu.baseUrl}/job_status`, undefined, { raw: 'nope' });
    expect(notJson.body).toMatchObject({ code: '2203' });
  });

  it('honours image_links: a URL that serves the stored selfie', async () => {
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId });
    const res = await jobStatus(emu, userId, jobId, { image_links: true });
    const link = res.body.image_links?.selfie_image;
    expect(link).toMatch(new RegExp(`^${emu.origin}/_results/`));
    const image = await fetch(link ?? '');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await image.arrayBuffer())).toEqual(FAKE_JPEG);
    const pending = await prepared();
    const none = await jobStatus(emu, pending.userId, pending.jobId, { image_links: 'true' });
    expect(none.body.image_links).toEqual({ error: 'No zip file received' });
    expect((await fetch(`${emu.origin}/_results/nope/selfie.jpg`)).status).toBe(404);
  });

  it('honours history: every result for the user, newest first', async () => {
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId, sandboxResult: '1' });
    await register(emu, { userId, jobId: `${jobId}-2` });
    const res = await jobStatus(emu, userId, `${jobId}-2`, { history: true });
    expect(res.body.history?.map((r) => r.ResultCode)).toEqual(['0840', '0841']);
    expect((await jobStatus(emu, userId, jobId)).body).not.toHaveProperty('history');
  });
});

describe('zip problems become rejected results (job_complete true, job_success false)', () => {
  async function resultFor(zip: Uint8Array): Promise<{ result: ResultObject; jobId: string }> {
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId, zip });
    expect(done.job_complete).toBe(true);
    expect(done.job_success).toBe(false);
    return { result: resultOf(done.result), jobId };
  }

  it('corrupt zip → 0903 Zip Corrupt', async () => {
    for (const bytes of [strToU8('definitely not a zip'), new Uint8Array(0), makeZip().slice(0, 40)]) {
      const { result } = await resultFor(bytes);
      expect(result).toMatchObject({ ResultCode: '0903', ResultText: 'Zip Corrupt' });
    }
  });

  it('zip without info.json, or with invalid JSON → 2203', async () => {
    const missing = await resultFor(makeZip({ noInfo: true }));
    expect(missing.result.ResultCode).toBe('2203');
    expect(emu.state.jobs.get(missing.jobId)?.zip?.problem?.detail).toContain('no info.json');
    const invalid = await resultFor(makeZip({ infoText: '{"images": [' }));
    expect(invalid.result.ResultCode).toBe('2203');
    expect(emu.state.jobs.get(invalid.jobId)?.zip?.info).toBeNull();
    expect((await resultFor(makeZip({ infoText: '[]' }))).result.ResultCode).toBe('2203');
  });

  it('no usable selfie → 0001 Selfie image unusable', async () => {
    const cases: Uint8Array[] = [
      makeZip({ files: { 'selfie.jpg': PNG_BYTES } }),
      makeZip({ files: {} }),
      makeZip({ images: [{ image_type_id: 4, file_name: 'selfie.jpg' }] }),
      makeZip({ images: [{ image_type_id: 2, image: Buffer.from(PNG_BYTES).toString('base64') }], files: {} }),
      makeZip({ images: [{ image_type_id: 2, image: '' }], files: {} }),
      makeZip({ images: [{ image_type_id: 0 }] }),
      makeZip({ info: { images: 'nope' } }),
      makeZip({ info: { images: [null, 7, { image_type_id: 'x' }] } }),
    ];
    for (const zip of cases) {
      const { result } = await resultFor(zip);
      expect(result).toMatchObject({ ResultCode: '0001', ResultText: 'Selfie image unusable' });
      expect(result.Actions?.Selfie_Provided).toBe('Failed');
    }
  });

  it('accepts the mobile shape: string image_type_id, no misc_information, absent image, nested entry names', async () => {
    const zip = makeZip({
      info: {
        images: [
          { image_type_id: '0', file_name: 'si_selfie_1.jpg' },
          { image_type_id: '4', file_name: 'si_liveness_1.jpg' },
        ],
        id_info: null,
      },
      files: { 'si_selfie_1.jpg': FAKE_JPEG, 'si_liveness_1.jpg': FAKE_JPEG },
    });
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId, zip });
    expect(done.job_success).toBe(true);
    expect(resultOf(done.result).Actions?.Liveness_Check).toBe('Passed');
    const nested = zipSync({
      'job/info.json': strToU8(JSON.stringify({ images: [{ image_type_id: 0, file_name: 'selfie.jpg', image: '' }] })),
      'job/selfie.jpg': FAKE_JPEG,
    });
    const other = ids();
    expect((await register(emu, { ...other, zip: nested })).job_success).toBe(true);
  });

  it('accepts and ignores a second PUT once the zip has landed', async () => {
    const { userId, jobId, url } = await prepared();
    expect((await putZip(url, makeZip())).status).toBe(200);
    expect((await putZip(url, strToU8('garbage'))).status).toBe(200);
    const done = await waitForResult(emu, userId, jobId);
    expect(done.job_success).toBe(true);
    expect(emu.state.jobs.get(jobId)?.puts).toBe(2);
  });

  it('the request log shows the PUT with its job id', async () => {
    const { jobId, url } = await prepared();
    await putZip(url, makeZip());
    const entry = await until(() => emu.state.requests.find((r) => r.method === 'PUT' && r.jobId === jobId));
    expect(entry.status).toBe(200);
    expect(entry.path.startsWith('/_uploads/')).toBe(true);
  });
});
