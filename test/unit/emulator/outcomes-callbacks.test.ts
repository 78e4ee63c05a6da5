import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/smile/sign.js';
import type { ResultObject } from '../../../src/smile/types.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { ids, jobStatus, prepUpload, register, waitForResult } from './helpers.js';
import { until } from '../../helpers/wait-for.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ processingMs: 10, humanReviewMs: 40 });
});
afterAll(async () => {
  await emu.close();
});

const resultOf = (value: unknown): ResultObject => value as ResultObject;

describe('outcomes from partner_params.sandbox_result', () => {
  it('"0" and absent approve with 0840 and enroll the user', async () => {
    for (const sandboxResult of ['0', undefined]) {
      const { userId, jobId } = ids();
      const done = await register(emu, { userId, jobId, ...(sandboxResult === undefined ? {} : { sandboxResult }) });
      expect(done).toMatchObject({ job_complete: true, job_success: true });
      expect(resultOf(done.result)).toMatchObject({
        ResultCode: '0840',
        IsFinalResult: 'true',
        IsMachineResult: 'true',
      });
      expect(emu.state.users.get(userId)).toMatchObject({ enrolled: true, enrollments: 1, enrolledJobIds: [jobId] });
    }
  });

  it('"1" rejects with 0841, Register_Selfie Rejected, and does not enroll', async () => {
    const { userId, jobId } = ids();
    const done = await register(emu, { userId, jobId, sandboxResult: '1' });
    expect(done).toMatchObject({ job_complete: true, job_success: false });
    expect(resultOf(done.result)).toMatchObject({
      ResultCode: '0841',
      IsFinalResult: 'true',
      Actions: { Register_Selfie: 'Rejected', Selfie_Provided: 'Passed' },
    });
    expect(emu.state.users.get(userId)?.enrolled).toBe(false);
    // Not enrolled, so a new JT4 for the same user is allowed.
    expect((await prepUpload(emu, { userId, jobId: `${jobId}-2` })).status).toBe(200);
  });

  it('the reject code is configurable', async () => {
    const other = await startEmulator({ processingMs: 1, rejectCode: '0841' });
    try {
      const done = await register(other, { ...ids(), sandboxResult: '1' });
      expect(resultOf(done.result).ResultCode).toBe('0841');
    } finally {
      await other.close();
    }
  });

  it('"2" is provisional (0814, not final) and does not enroll while under review', async () => {
    // A review that does not come during the test: whatever is seen is the provisional state (with
    // the shared 40 ms review, the user could be enrolled between the 0814 answer and the check).
    const slowReview = await startEmulator({ processingMs: 10, humanReviewMs: 10 * 60_000 });
    try {
      const { userId, jobId } = ids();
      const first = await register(slowReview, { userId, jobId, sandboxResult: '2' });
      expect(first).toMatchObject({ job_complete: true, job_success: false });
      expect(resultOf(first.result)).toMatchObject({ ResultCode: '0814', IsFinalResult: 'false' });
      expect(slowReview.state.users.get(userId)?.enrolled).toBe(false);
    } finally {
      await slowReview.close();
    }
  });

  it('"2" is provisional (0814, not final), then approved by human review (1210) and enrolled', async () => {
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId, sandboxResult: '2' });
    // The first complete answer may already be the reviewed one if the poll came late; the job keeps both.
    const job = emu.state.jobs.get(jobId);
    const provisional = job?.results[0];
    expect(provisional).toMatchObject({
      ResultCode: '0814',
      ResultText: 'Provisional Enroll - Under Review',
      IsFinalResult: 'false',
      IsMachineResult: 'true',
      Actions: { Register_Selfie: 'Provisionally Approved', Human_Review_Compare: 'Under Review' },
    });
    const final = await waitForResult(emu, userId, jobId, true);
    expect(final).toMatchObject({ job_complete: true, job_success: true });
    expect(resultOf(final.result)).toMatchObject({
      ResultCode: '1210',
      IsFinalResult: 'true',
      IsMachineResult: 'false',
      Actions: { Register_Selfie: 'Approved' },
    });
    expect(emu.state.users.get(userId)?.enrolled).toBe(true);
    expect(job?.results.map((r) => r.ResultCode)).toEqual(['0814', '1210']);
    const history = await jobStatus(emu, userId, jobId, { history: true });
    expect(history.body.history?.map((r) => r.ResultCode)).toEqual(['1210', '0814']);
  });
});

describe('callbacks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: { path: string; body: Record<string, unknown>; contentType: string | undefined }[] = [];
  let failuresLeft = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/flaky' && failuresLeft > 0) {
          failuresLeft -= 1;
          res.statusCode = 500;
          res.end();
          return;
        }
        received.push({
          path: req.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          contentType: req.headers['content-type'],
        });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('POSTs the signed result to callback_url when it is ready', async () => {
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId, callbackUrl: `${receiverUrl}/cb` });
    const got = await until(() =>
      received.find((r) => (r.body.PartnerParams as Record<string, string>).job_id === jobId),
    );
    expect(got.contentType).toBe('application/json');
    expect(got.body).toMatchObject({
      ResultCode: '0840',
      ResultText: 'Enroll User',
      SmileJobID: emu.state.jobs.get(jobId)?.smileJobId,
      Source: 'WebAPI',
    });
    expect(verifySignature(emu.apiKey, emu.partnerId, got.body.timestamp, got.body.signature)).toBe(true);
    const delivery = await until(() => emu.state.callbacks.find((c) => c.jobId === jobId && c.done));
    expect(delivery).toMatchObject({
      url: `${receiverUrl}/cb`,
      status: 200,
      ok: true,
      attempts: 1,
      resultCode: '0840',
    });
  });

  it('posts twice for a provisional job: the machine result, then the human-review result', async () => {
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId, sandboxResult: '2', callbackUrl: `${receiverUrl}/cb`, final: true });
    const mine = await until(() => {
      const list = received.filter((r) => (r.body.PartnerParams as Record<string, string>).job_id === jobId);
      return list.length === 2 ? list : undefined;
    });
    expect(mine.map((r) => [r.body.ResultCode, r.body.IsFinalResult])).toEqual([
      ['0814', 'false'],
      ['1210', 'true'],
    ]);
    for (const r of mine)
      expect(verifySignature(emu.apiKey, emu.partnerId, r.body.timestamp, r.body.signature)).toBe(true);
  });

  it('retries a failing callback a couple of times and records the attempts', async () => {
    failuresLeft = 1;
    const { userId, jobId } = ids();
    await register(emu, { userId, jobId, callbackUrl: `${receiverUrl}/flaky` });
    const delivery = await until(() => emu.state.callbacks.find((c) => c.jobId === jobId && c.done));
    expect(delivery).toMatchObject({ ok: true, status: 200, attempts: 2 });
  });

  it('gives up quietly on an unreachable or invalid callback and keeps serving', async () => {
    const unreachable = ids();
    const garbage = ids();
    const [done] = await Promise.all([
      register(emu, { ...unreachable, callbackUrl: 'http://127.0.0.1:1/unreachable' }),
      register(emu, { ...garbage, callbackUrl: 'not a url' }),
    ]);
    expect(done.job_success).toBe(true);
    for (const jobId of [unreachable.jobId, garbage.jobId]) {
      const delivery = await until(() => emu.state.callbacks.find((c) => c.jobId === jobId && c.done), 'delivery');
      expect(delivery).toMatchObject({ ok: false, status: 0, attempts: 3 });
      expect(delivery.error).toBeTruthy();
    }
  });
});
