import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, signedFields } from '../../../src/smile/sign.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { ids, makeZip, postJson, prepBody, prepUpload, putZip, register } from './helpers.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ processingMs: 5 });
});
afterAll(async () => {
  await emu.close();
});

const upload = (body: unknown, init?: { gzip?: boolean; raw?: string }) =>
  postJson(`${emu.baseUrl}/upload`, body, init);

describe('POST /v1/upload: success', () => {
  it('answers upload_url, ref_id, a 10-digit smile_job_id, camera_config "null" and code 2202', async () => {
    const { userId, jobId } = ids();
    const res = await prepUpload(emu, { userId, jobId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ camera_config: 'null', code: '2202' });
    expect(res.body.smile_job_id).toMatch(/^\d{10}$/);
    expect(res.body.ref_id).toMatch(new RegExp(`^${emu.partnerId}-${res.body.smile_job_id}-[0-9a-f]+$`));
    const url = new URL(res.body.upload_url);
    expect(url.origin).toBe(emu.origin);
    expect(url.pathname).toBe(`/_uploads/${res.body.ref_id}/selfie.zip`);
    expect(url.searchParams.get('Expires')).toMatch(/^\d+$/);
    expect(url.searchParams.get('Signature')).toBeTruthy();
    expect(res.headers.get('date')).toBeTruthy();
  });

  it('counts up smile_job_id and keeps the prep-upload body without the signature', async () => {
    const a = ids();
    const b = ids();
    const first = await prepUpload(emu, a);
    const second = await prepUpload(emu, b);
    expect(Number(second.body.smile_job_id)).toBe(Number(first.body.smile_job_id) + 1);
    const job = emu.state.jobs.get(a.jobId);
    expect(job?.prepUploads).toHaveLength(1);
    expect(job?.prepUploads[0]).not.toHaveProperty('signature');
    expect(job?.prepUploads[0]).toMatchObject({ smile_client_id: emu.partnerId, file_name: 'selfie.zip' });
    expect(emu.state.prepUploadCount(a.userId, a.jobId)).toBe(1);
  });

  it('use_enrolled_image: 2216 without a photo on file, accepted (and stored) for an enrolled user', async () => {
    const a = ids();
    const refused = await prepUpload(emu, { ...a, extra: { use_enrolled_image: true } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: '2216' });
    await register(emu, { userId: a.userId, jobId: `${a.jobId}-first` });
    const again = { userId: a.userId, jobId: `${a.jobId}-again` };
    const accepted = await prepUpload(emu, { ...again, extra: { use_enrolled_image: true, allow_new_enroll: true } });
    expect(accepted.status).toBe(200);
    expect(emu.state.jobs.get(again.jobId)).toMatchObject({ useEnrolledImage: true });
  });

  it('accepts a gzip-encoded body', async () => {
    const { userId, jobId } = ids();
    const res = await upload(prepBody(emu, { userId, jobId }), { gzip: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: '2202' });
  });

  it('echoes partner_params as strings, "" as "null"', async () => {
    const { userId, jobId } = ids();
    await prepUpload(emu, { userId, jobId, params: { campaign: 'cli', empty: '' } });
    expect(emu.state.jobs.get(jobId)?.partnerParams).toEqual({
      user_id: userId,
      job_id: jobId,
      job_type: '4',
      campaign: 'cli',
      empty: 'null',
    });
  });
});

describe('POST /v1/upload: authorization (2205)', () => {
  const unauthorized = { code: '2205', error: 'You are not authorized to do that' };

  it('refuses a signature made with another key', async () => {
    const res = await prepUpload(emu, { ...ids(), apiKey: 'not-the-key' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorized);
  });

  it('refuses another partner id, even correctly signed for it', async () => {
    const res = await prepUpload(emu, { ...ids(), partnerId: '999' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorized);
  });

  it('verifies over the raw timestamp string (a reformatted timestamp fails)', async () => {
    const body = prepBody(emu, ids());
    const ts = String(body.timestamp);
    body.timestamp = ts.replace('Z', '+00:00');
    expect((await upload(body)).status).toBe(401);
    body.signature = signRequest(emu.apiKey, emu.partnerId, String(body.timestamp));
    expect((await upload(body)).status).toBe(200);
  });

  it('refuses timestamps outside the window and unparsable ones', async () => {
    const old = await prepUpload(emu, { ...ids(), now: new Date(Date.now() - 16 * 60 * 1000) });
    expect(old.status).toBe(401);
    const future = await prepUpload(emu, { ...ids(), now: new Date(Date.now() + 16 * 60 * 1000) });
    expect(future.status).toBe(401);
    const inside = await prepUpload(emu, { ...ids(), now: new Date(Date.now() - 5 * 60 * 1000) });
    expect(inside.status).toBe(200);
    const body = prepBody(emu, ids());
    body.timestamp = 'yesterday-ish';
    body.signature = signRequest(emu.apiKey, emu.partnerId, 'yesterday-ish');
    const res = await upload(body);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorized);
  });

  it('honours a configured window', async () => {
    const strict = await startEmulator({ timestampWindowMs: 1000 });
    try {
      expect((await prepUpload(strict, { ...ids(), now: new Date(Date.now() - 60_000) })).status).toBe(401);
      expect((await prepUpload(strict, ids())).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('POST /v1/upload: validation', () => {
  it('answers 2203 to a body that is not JSON (or not an object)', async () => {
    for (const raw of ['{not json', '', '[1,2]', '"text"', 'null']) {
      const res = await upload(undefined, { raw });
      expect(res.status, raw).toBe(400);
      expect(res.body, raw).toMatchObject({ code: '2203' });
    }
  });

  it('answers 2213 for each missing required field', async () => {
    const cases: [string, (b: Record<string, unknown>) => void][] = [
      ['smile_client_id', (b) => delete b.smile_client_id],
      ['signature', (b) => delete b.signature],
      ['timestamp', (b) => delete b.timestamp],
      ['partner_params', (b) => delete b.partner_params],
      ['partner_params.user_id', (b) => delete (b.partner_params as Record<string, unknown>).user_id],
      ['partner_params.job_id', (b) => delete (b.partner_params as Record<string, unknown>).job_id],
      ['partner_params.job_type', (b) => delete (b.partner_params as Record<string, unknown>).job_type],
      ['empty user_id', (b) => ((b.partner_params as Record<string, unknown>).user_id = '')],
    ];
    for (const [name, mutate] of cases) {
      const body = prepBody(emu, ids());
      mutate(body);
      const res = await upload(body);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toMatchObject({ code: '2213' });
      expect(typeof (res.body as { error?: unknown }).error, name).toBe('string');
    }
  });

  it('answers 2204 for wrong types', async () => {
    const cases: [string, (b: Record<string, unknown>) => void][] = [
      ['smile_client_id number', (b) => (b.smile_client_id = 85)],
      ['partner_params string', (b) => (b.partner_params = 'x')],
      ['user_id number', (b) => ((b.partner_params as Record<string, unknown>).user_id = 12)],
      ['job_id object', (b) => ((b.partner_params as Record<string, unknown>).job_id = { a: 1 })],
      ['job_type text', (b) => ((b.partner_params as Record<string, unknown>).job_type = 'four')],
      ['job_type float', (b) => ((b.partner_params as Record<string, unknown>).job_type = 4.5)],
      ['extra null', (b) => ((b.partner_params as Record<string, unknown>).extra = null)],
      ['callback_url number', (b) => (b.callback_url = 1)],
      ['allow_new_enroll text', (b) => (b.allow_new_enroll = 'yes')],
      ['retry number', (b) => (b.retry = 1)],
    ];
    for (const [name, mutate] of cases) {
      const body = prepBody(emu, ids());
      mutate(body);
      const res = await upload(body);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toMatchObject({ code: '2204' });
    }
  });

  it('answers 2212 for job types other than 4 and 2', async () => {
    for (const jobType of [1, 5, 6, 11]) {
      const res = await prepUpload(emu, { ...ids(), jobType });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: '2212' });
    }
    expect((await prepUpload(emu, { ...ids(), jobType: '4' })).status).toBe(200);
  });

  it('answers 2210 for job_type 2 on a user never enrolled, and accepts it once enrolled', async () => {
    const { userId, jobId } = ids();
    const res = await prepUpload(emu, { userId, jobId, jobType: 2 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: '2210' });
    await register(emu, { userId, jobId: `${jobId}-enroll` });
    const auth = await register(emu, { userId, jobId: `${jobId}-auth`, jobType: 2 });
    expect(auth.job_success).toBe(true);
    expect(auth.result).toMatchObject({ ResultCode: '0820', PartnerParams: { job_type: '2' } });
  });
});

describe('POST /v1/upload: duplicate jobs and users', () => {
  it('answers 2215 to a reused job_id, and counts every prep upload', async () => {
    const { userId, jobId } = ids();
    expect((await prepUpload(emu, { userId, jobId })).status).toBe(200);
    const again = await prepUpload(emu, { userId, jobId });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ code: '2215', error: 'Job already exists. Did you mean to set the retry flag?' });
    expect(emu.state.prepUploadCount(userId, jobId)).toBe(2);
  });

  it('gives a fresh upload URL for the same smile_job_id with retry:true while no zip has arrived', async () => {
    const { userId, jobId } = ids();
    const first = await prepUpload(emu, { userId, jobId });
    const retried = await prepUpload(emu, { userId, jobId, extra: { retry: true } });
    expect(retried.status).toBe(200);
    expect(retried.body.smile_job_id).toBe(first.body.smile_job_id);
    expect(retried.body.upload_url).not.toBe(first.body.upload_url);
    expect(emu.state.jobs.get(jobId)?.prepUploads).toHaveLength(2);
    expect((await putZip(retried.body.upload_url, makeZip())).status).toBe(200);
    // Once the zip has landed, retry no longer helps.
    const late = await prepUpload(emu, { userId, jobId, extra: { retry: true } });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ code: '2215' });
    expect(emu.state.prepUploadCount(userId, jobId)).toBe(3);
  });

  it('answers 2215 to retry:true from another user_id', async () => {
    const { userId, jobId } = ids();
    await prepUpload(emu, { userId, jobId });
    const res = await prepUpload(emu, { userId: `${userId}-other`, jobId, extra: { retry: true } });
    expect(res.body).toMatchObject({ code: '2215' });
  });

  it('answers 2209 to a second JT4 of an enrolled user unless allow_new_enroll', async () => {
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId });
    expect(done.job_success).toBe(true);
    const again = await prepUpload(emu, { userId, jobId: `${jobId}-2` });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: '2209' });
    expect(
      (await prepUpload(emu, { userId, jobId: `${jobId}-3`, extra: { allow_new_enroll: false } })).body,
    ).toMatchObject({ code: '2209' });
    expect((await prepUpload(emu, { userId, jobId: `${jobId}-4`, extra: { allow_new_enroll: true } })).status).toBe(
      200,
    );
    expect((await prepUpload(emu, { userId, jobId: `${jobId}-5`, extra: { allow_new_enroll: 'true' } })).status).toBe(
      200,
    );
    const re = await register(emu, { userId, jobId: `${jobId}-6`, extra: { allow_new_enroll: true } });
    expect(re.job_success).toBe(true);
    expect(emu.state.users.get(userId)).toMatchObject({ enrolled: true, enrollments: 2 });
  });

  it('does not count a pending (not yet approved) JT4 as enrolled', async () => {
    const { userId, jobId } = ids();
    expect((await prepUpload(emu, { userId, jobId })).status).toBe(200);
    expect((await prepUpload(emu, { userId, jobId: `${jobId}-b` })).status).toBe(200);
  });
});

describe('other routes', () => {
  it('GET /v1/services answers a small static document', async () => {
    const res = await fetch(`${emu.baseUrl}/services`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['bank_codes', 'hosted_web', 'id_types']);
  });

  it('answers 404 JSON to unknown routes and 405 to a wrong method', async () => {
    const missing = await fetch(`${emu.origin}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: '404' });
    const wrong = await fetch(`${emu.baseUrl}/upload`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('logs every request with method, path, status and ids', async () => {
    const { userId, jobId } = ids();
    await prepUpload(emu, { userId, jobId });
    const entry = emu.state.requests.find((r) => r.jobId === jobId);
    expect(entry).toMatchObject({ method: 'POST', path: '/v1/upload', status: 200, userId });
  });

  it('signs nothing on prep upload but every request still gets a Date header', async () => {
    const res = await upload({ ...signedFields(emu.apiKey, emu.partnerId) });
    expect(res.status).toBe(400);
    expect(new Date(res.headers.get('date') ?? '').getTime()).not.toBeNaN();
  });
});
