import { describe, expect, it } from 'vitest';
import { deriveOutcome } from '../../../src/smile/outcome.js';

const approvedActions = { Register_Selfie: 'Approved', Selfie_Provided: 'Passed', Liveness_Check: 'Passed' };

describe('deriveOutcome', () => {
  it('is pending while the job is not complete, whatever the result says', () => {
    expect(deriveOutcome({ job_complete: false, job_success: false, result: 'No zip file received' })).toBe('pending');
    expect(deriveOutcome({ job_complete: false, job_success: true, result: { Actions: approvedActions } })).toBe(
      'pending',
    );
  });
  it('is approved on job_success, with any result code', () => {
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: true,
        result: { ResultCode: '0810', Actions: approvedActions },
      }),
    ).toBe('approved');
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: true,
        result: { ResultCode: '9999', Actions: approvedActions },
      }),
    ).toBe('approved');
  });
  it('is provisional when an action is under review or the result is not final', () => {
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: false,
        result: { ResultCode: '0814', Actions: { Register_Selfie: 'Provisionally Approved' } },
      }),
    ).toBe('provisional');
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: false,
        result: { Actions: { Human_Review_Compare: 'Under Review' } },
      }),
    ).toBe('provisional');
    expect(
      deriveOutcome({ job_complete: true, job_success: false, result: { IsFinalResult: 'false', Actions: {} } }),
    ).toBe('provisional');
  });
  it('is rejected when complete, unsuccessful and final — even for a code it never saw', () => {
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: false,
        result: { ResultCode: '0813', IsFinalResult: 'true', Actions: { Register_Selfie: 'Rejected' } },
      }),
    ).toBe('rejected');
    expect(
      deriveOutcome({
        job_complete: true,
        job_success: false,
        result: { ResultCode: '0810', IsFinalResult: 'true', Actions: { Register_Selfie: 'Rejected' } },
      }),
    ).toBe('rejected');
  });
  it('is an error when a complete job has no result object', () => {
    expect(deriveOutcome({ job_complete: true, job_success: false, result: 'System error' })).toBe('error');
    expect(deriveOutcome({ job_complete: true, job_success: false, result: null })).toBe('error');
  });
});
