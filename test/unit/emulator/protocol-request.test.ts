/**
 * Issue 13, items 1, 2 and 8 at the emulator's HTTP surface: it reads the location from the prep
 * upload's `metadata`, refuses a job_type 4 zip without a selfie (0001) whatever use_enrolled_image
 * says, and refuses what the docs call required or string-only (2213 / 2204).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { ids, makeZip, prepUpload, putZip, register, waitForResult } from './helpers.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ processingMs: 5 });
});
afterAll(async () => {
  await emu.close();
});

describe('prep upload metadata (item 1)', () => {
  it('keeps the geolocation metadatum as the job geolocation', async () => {
    const a = ids();
    const value = { latitude: 6.5244, longitude: 3.3792, accuracy: 'precise', source: 'gps' };
    const res = await prepUpload(emu, {
      ...a,
      extra: {
        metadata: [
          { name: 'sdk', value: 'android', timestamp: '2025-06-01T10:15:30.123Z' },
          { name: 'geolocation', value, timestamp: '2025-06-01T10:15:31.000Z' },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(emu.state.jobs.get(a.jobId)?.geolocation).toEqual({ ...value, timestamp: '2025-06-01T10:15:31.000Z' });
  });

  it('ignores geo_info (no client sends it) and malformed metadata', async () => {
    const a = ids();
    const res = await prepUpload(emu, {
      ...a,
      extra: { geo_info: { latitude: 1, longitude: 2 }, metadata: [{ name: 'geolocation', value: 'x' }] },
    });
    expect(res.status).toBe(200);
    expect(emu.state.jobs.get(a.jobId)?.geolocation).toBeNull();
  });
});

describe('job_type 4 without a selfie (item 2)', () => {
  it('is rejected with 0001 even with use_enrolled_image for an enrolled user', async () => {
    const a = ids();
    await register(emu, { userId: a.userId, jobId: `${a.jobId}-first` });
    const again = { userId: a.userId, jobId: `${a.jobId}-again` };
    const prep = await prepUpload(emu, { ...again, extra: { use_enrolled_image: true, allow_new_enroll: true } });
    expect(prep.status).toBe(200);
    const put = await putZip(prep.body.upload_url, makeZip({ images: [], files: {} }));
    expect(put.status).toBe(200);
    const status = await waitForResult(emu, again.userId, again.jobId);
    expect(status.job_success).toBe(false);
    expect(status.result).toMatchObject({ ResultCode: '0001' });
    expect(emu.state.jobs.get(again.jobId)?.zip?.problem).toMatchObject({ code: '0001' });
  });
});

describe('documented required fields and string params (item 8)', () => {
  it.each(['source_sdk', 'source_sdk_version', 'file_name'])(
    'refuses a prep upload without %s: 400 / 2213',
    async (field) => {
      const a = ids();
      const res = await prepUpload(emu, { ...a, extra: { [field]: undefined } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: '2213' });
      expect(res.body.error).toContain(field);
      expect(emu.state.jobs.has(a.jobId)).toBe(false);
    },
  );

  it.each([
    ['a number', 7],
    ['a boolean', true],
  ])('refuses an extra partner param that is %s: 400 / 2204', async (_label, value) => {
    const a = ids();
    const res = await prepUpload(emu, { ...a, params: { branch: value } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: '2204' });
    expect(res.body.error).toContain('partner_params.branch');
  });

  it('still takes string extra params, echoing "" as "null"', async () => {
    const a = ids();
    const res = await prepUpload(emu, { ...a, params: { branch: 'nairobi', note: '' } });
    expect(res.status).toBe(200);
    expect(emu.state.jobs.get(a.jobId)?.partnerParams).toMatchObject({ branch: 'nairobi', note: 'null' });
  });
});
