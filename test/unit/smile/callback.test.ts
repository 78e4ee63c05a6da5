import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CALLBACK_WINDOW,
  callbackOutcome,
  callbackWindow,
  describeCallbackStage,
  describeSpan,
  maxAgeCovering,
  verifyCallbackBody,
} from '../../../src/smile/callback.js';
import { CALLBACK_MAX_AGE_MS, SIGNED_ANSWER_WINDOW_MS, signedFields } from '../../../src/smile/sign.js';
import type { ResultObject } from '../../../src/smile/types.js';

const KEY = { apiKey: 'callback-protocol-key-0c1d', partnerId: '085' };
const NOW = Date.parse('2025-06-01T10:00:00.000Z');
const window = { ...DEFAULT_CALLBACK_WINDOW, now: NOW };

const approved: ResultObject = {
  PartnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: '4' },
  SmileJobID: '0000000042',
  ResultCode: '0810',
  ResultText: 'Enroll User',
  Actions: { Register_Selfie: 'Approved', Selfie_Provided: 'Passed', Liveness_Check: 'Not Applicable' },
  IsFinalResult: 'true',
  IsMachineResult: 'true',
};

/** The body Smile ID POSTs: the result object plus timestamp and signature, signed `agoMs` before NOW. */
function body(result: ResultObject, agoMs = 60_000, key = KEY): string {
  return JSON.stringify({ ...result, ...signedFields(key.apiKey, key.partnerId, new Date(NOW - agoMs)) });
}

describe('callback outcome rule', () => {
  it('reads Register_Selfie and IsFinalResult as job_success, then derives the outcome like job_status', () => {
    expect(callbackOutcome(approved)).toBe('approved');
    expect(callbackOutcome({ ...approved, Actions: { Register_Selfie: 'Rejected' } })).toBe('rejected');
    expect(
      callbackOutcome({
        ...approved,
        Actions: { Register_Selfie: 'Provisionally Approved', Human_Review_Compare: 'Under Review' },
        IsFinalResult: 'false',
      }),
    ).toBe('provisional');
    expect(callbackOutcome({ ...approved, IsMachineResult: 'false' })).toBe('approved');
    // Approved but explicitly not final: still under review.
    expect(callbackOutcome({ ...approved, IsFinalResult: 'false' })).toBe('provisional');
    // No ResultCode lookup: an unknown code with an approved action is approved.
    expect(callbackOutcome({ ...approved, ResultCode: '9999' })).toBe('approved');
  });
});

describe('verifyCallbackBody', () => {
  it('takes a body signed with the key inside the window, and gives its ids and outcome', () => {
    const verdict = verifyCallbackBody(body(approved), KEY, window);
    expect(verdict).toMatchObject({
      ok: true,
      outcome: 'approved',
      jobSuccess: true,
      userId: 'u-1',
      jobId: 'job-1',
      smileJobId: '0000000042',
      warnings: [],
    });
    if (!verdict.ok) throw new Error('not verified');
    expect(verdict.result).not.toHaveProperty('signature');
    expect(verdict.result).not.toHaveProperty('timestamp');
  });

  it('refuses what is not a signed callback, with the reason', () => {
    expect(verifyCallbackBody('hello', KEY, window)).toMatchObject({ ok: false, reason: 'not_json' });
    expect(verifyCallbackBody('[1]', KEY, window)).toMatchObject({ ok: false, reason: 'not_object' });
    expect(verifyCallbackBody(JSON.stringify(approved), KEY, window)).toMatchObject({
      ok: false,
      reason: 'missing_signature',
      message: expect.stringContaining('no signature'),
    });
    expect(
      verifyCallbackBody(body(approved, 60_000, { ...KEY, apiKey: 'another-key-entirely' }), KEY, window),
    ).toMatchObject({ ok: false, reason: 'bad_signature', message: expect.stringContaining('partner 085') });
  });

  it('refuses a signature older than the window, or from further ahead than the future allowance, naming its age', () => {
    const stale = verifyCallbackBody(body(approved, 30 * 86_400_000), KEY, window);
    expect(stale).toMatchObject({
      ok: false,
      reason: 'stale_signature',
      ageMs: 30 * 86_400_000,
      userId: 'u-1',
      jobId: 'job-1',
    });
    expect(stale.ok === false && stale.message).toMatch(
      /signed 30 days ago .* longer ago than the 1h a callback is taken for/,
    );
    expect(
      verifyCallbackBody(body(approved, 30 * 86_400_000), KEY, { ...callbackWindow(31 * 86_400_000), now: NOW }),
    ).toMatchObject({ ok: true });
    const future = verifyCallbackBody(body(approved, -(SIGNED_ANSWER_WINDOW_MS + 60_000)), KEY, window);
    expect(future).toMatchObject({ ok: false, reason: 'future_signature' });
  });

  it('warns about a result that is not a registration, or has no Register_Selfie action', () => {
    const verdict = verifyCallbackBody(
      body({
        ...approved,
        PartnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: 2 },
        Actions: { Verify_ID_Number: 'Verified' },
      }),
      KEY,
      window,
    );
    expect(verdict.ok && verdict.warnings).toEqual([
      expect.stringMatching(/^job_type 2:/),
      expect.stringMatching(/^no Register_Selfie action/),
    ]);
  });
});

describe('callback spans and stages', () => {
  it('describes spans in whole units and suggests a --max-age that covers an age', () => {
    expect(describeSpan(CALLBACK_MAX_AGE_MS)).toBe('1h');
    expect(describeSpan(SIGNED_ANSWER_WINDOW_MS)).toBe('15 min');
    expect(describeSpan(30 * 86_400_000 + 5)).toBe('30 days');
    expect(describeSpan(40_000)).toBe('40 s');
    expect(maxAgeCovering(30 * 86_400_000)).toBe('31d');
    expect(maxAgeCovering(5 * 3_600_000 + 1)).toBe('6h');
    expect(maxAgeCovering(90_000)).toBe('2m');
  });

  it('names which result of the job a callback carries', () => {
    expect(describeCallbackStage(approved)).toBe('machine result, final');
    expect(describeCallbackStage({ ...approved, IsMachineResult: 'false', IsFinalResult: 'false' })).toBe(
      'human review result, not final',
    );
  });
});
