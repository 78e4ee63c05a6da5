import { describe, expect, it } from 'vitest';
import { checkJobStatusAnswer, checkPrepUploadAnswer } from '../../../src/smile/types.js';

const prep = {
  upload_url: 'https://bucket.s3.amazonaws.com/x/selfie.zip?Signature=abc',
  ref_id: '085-0000000001-abc',
  smile_job_id: '0000000001',
  camera_config: 'null',
  code: '2202',
};
const status = {
  timestamp: '2025-06-01T10:16:05.421Z',
  signature: 'sig',
  job_complete: true,
  job_success: true,
  code: '2302',
  result: {
    Actions: { Register_Selfie: 'Approved' },
    ResultCode: '0810',
    ResultText: 'Enroll User',
    PartnerParams: { user_id: 'u', job_type: 4 },
    IsFinalResult: 'true',
  },
};

describe('checkPrepUploadAnswer (smile-api.md §3.3)', () => {
  it('takes the documented answer, and one with only upload_url and smile_job_id', async () => {
    expect(await checkPrepUploadAnswer(prep)).toBeUndefined();
    expect(
      await checkPrepUploadAnswer({ upload_url: prep.upload_url, smile_job_id: '1', extra: { any: 'thing' } }),
    ).toBeUndefined();
  });
  it.each([['http://127.0.0.1:9/u'], ['http://127.8.9.10/u'], ['http://localhost:8080/u'], ['http://[::1]:8080/u']])(
    'takes plain http to loopback: %s',
    async (url) => {
      expect(await checkPrepUploadAnswer({ ...prep, upload_url: url })).toBeUndefined();
    },
  );
  it.each([
    ['data:,ok', 'a data: URL'],
    ['http://10.0.0.1/u', 'plain http to 10.0.0.1'],
    ['http://localhost.evil.example/u', 'plain http to localhost.evil.example'],
    ['ftp://example.com/u', 'a ftp: URL'],
    ['/relative/path', 'not a URL'],
  ])('refuses upload_url %s', async (url, said) => {
    const problem = await checkPrepUploadAnswer({ ...prep, upload_url: url });
    expect(problem?.field).toBe('upload_url');
    expect(problem?.message).toContain(said);
  });
  it.each([
    [{ ...prep, upload_url: undefined }, 'upload_url', 'upload_url is missing (it should be a string)'],
    [{ ...prep, smile_job_id: 42 }, 'smile_job_id', 'smile_job_id should be a string, not a number'],
    [{ ...prep, smile_job_id: '' }, 'smile_job_id', 'smile_job_id is empty'],
    [{ ...prep, smile_job_id: '12\u001b]0;x\u0007' }, 'smile_job_id', 'smile_job_id contains control characters'],
    [{ ...prep, ref_id: ['x'] }, 'ref_id', 'ref_id should be a string, not a list'],
    ['just text', '(answer)', 'it is a string, not a JSON object'],
    [undefined, '(answer)', 'it is not JSON'],
  ])('names the field of a bad answer', async (answer, field, message) => {
    const problem = await checkPrepUploadAnswer(answer);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(message);
  });
});

describe('checkJobStatusAnswer (smile-api.md §5.2)', () => {
  it('takes complete, string-result, null-result and history answers; extra keys are fine', async () => {
    expect(await checkJobStatusAnswer(status)).toBeUndefined();
    expect(
      await checkJobStatusAnswer({
        ...status,
        job_complete: false,
        job_success: false,
        code: '2314',
        result: 'No zip file received',
      }),
    ).toBeUndefined();
    expect(await checkJobStatusAnswer({ ...status, job_complete: false, result: null })).toBeUndefined();
    expect(
      await checkJobStatusAnswer({
        ...status,
        history: [status.result],
        image_links: { selfie_image: 'https://x/y.jpg' },
        kyc_receipt: null,
      }),
    ).toBeUndefined();
    expect(
      await checkJobStatusAnswer({
        ...status,
        result: { ...status.result, Antifraud: { summary: {} }, FullData: [1, 2] },
      }),
    ).toBeUndefined();
  });
  it.each([
    [{ ...status, job_complete: 'true' }, 'job_complete', 'job_complete should be true or false, not a string'],
    [{ ...status, job_success: undefined }, 'job_success', 'job_success is missing'],
    [{ ...status, code: 2302 }, 'code', 'code should be a string, not a number'],
    [{ ...status, result: 7 }, 'result', 'result should be an object or a string, not a number'],
    [{ ...status, result: ['x'] }, 'result', 'result should be an object or a string, not a list'],
    [
      { ...status, result: { ...status.result, ResultCode: { a: 1 } } },
      'result.ResultCode',
      'result.ResultCode should be a string, not an object',
    ],
    [
      { ...status, result: { ...status.result, Actions: { Liveness_Check: 1 } } },
      'result.Actions.Liveness_Check',
      'should be a string, not a number',
    ],
    [
      { ...status, result: { ...status.result, PartnerParams: { user_id: { x: 1 } } } },
      'result.PartnerParams.user_id',
      'should be a string or a number, not an object',
    ],
    [
      { ...status, history: [status.result, { ResultText: 5 }] },
      'history[1].ResultText',
      'should be a string, not a number',
    ],
    [{ ...status, image_links: { selfie_image: 5 } }, 'image_links.selfie_image', 'should be a string'],
  ])('names the field of a bad answer', async (answer, field, message) => {
    const problem = await checkJobStatusAnswer(answer);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(message);
  });
  it('keeps control characters of server-sent keys out of the field name', async () => {
    const problem = await checkJobStatusAnswer({
      ...status,
      result: { ...status.result, Actions: { 'a\u001b[2Jb': 1 } },
    });
    expect(problem?.field).toBe('result.Actions.a?[2Jb');
  });
});
