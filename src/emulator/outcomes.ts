/** Result objects (smile-api.md §5.2, §6, §7) the emulator issues, driven by `sandbox_result`. */
import type { ResultObject } from '../smile/types.js';
import type { EmulatorJob, ZipReceipt } from './state.js';

/**
 * Code of an approved JT4: `"ResultCode": "0840", "ResultText": "Enroll User"`, Smile ID's own answer to a
 * "custom job type 4" (smileidentity/Image-enroll@3e9a025:README.md:24,101-102). Whether the v1 upload
 * flow answers the same code as that back-fill endpoint is UNVERIFIED; 0810 "Enroll User" is sourced
 * only for job types 1 and 2 (smile-api.md §6.2).
 */
export const APPROVE_CODE = '0840';

/**
 * Default code of a rejected JT4 (`sandbox_result` "1"): 0841 "Enroll User FAIL", the fail twin of
 * 0840 in a third-party integration's code list. UNVERIFIED: no Smile ID source gives a JT4 failure
 * code. (0813, used before, is "Document Not Verified - Machine Judgement" in that same list.)
 */
export const DEFAULT_REJECT_CODE = '0841';

export interface IssuedResult {
  result: ResultObject;
  jobSuccess: boolean;
  /** A human-review result follows later (provisional). */
  reviewFollows: boolean;
  /** The user counts as enrolled from now on. */
  enrolls: boolean;
}

const NA = 'Not Applicable';

type Verdict = 'approved' | 'rejected' | 'provisional';

/** `sandbox_result` "0"/absent = approve, "1" = reject, "2" = provisional; anything else approves (the real sandbox's handling is UNVERIFIED). */
export function verdictOf(sandboxResult: string): Verdict {
  if (sandboxResult === '1') return 'rejected';
  if (sandboxResult === '2') return 'provisional';
  return 'approved';
}

function baseResult(
  job: EmulatorJob,
  actions: Record<string, string>,
  fields: { code: string; text: string; confidence: string; final: boolean; machine: boolean },
): ResultObject {
  // Key order as in the documented callback example (alphabetical).
  return {
    Actions: actions,
    ConfidenceValue: fields.confidence,
    IsFinalResult: String(fields.final),
    IsMachineResult: String(fields.machine),
    JSONVersion: '1.0.0',
    PartnerParams: { ...job.partnerParams },
    ResultCode: fields.code,
    ResultText: fields.text,
    // "SAIA" for every JT4/JT2 result, human review included; the docs' human-review fixture says
    // "DIVA" but it is a JT1 job. UNVERIFIED for JT4.
    ResultType: 'SAIA',
    SmileJobID: job.smileJobId,
    Source: 'WebAPI',
  };
}

/** The machine result of a job whose zip has been judged. */
export function machineResult(
  job: EmulatorJob,
  zip: ZipReceipt,
  rejectCode: string = DEFAULT_REJECT_CODE,
): IssuedResult {
  const liveness = zip.livenessFrames > 0;
  if (zip.problem) {
    const selfieProvided = zip.problem.code === '0001' ? 'Failed' : 'Not Done';
    const actions: Record<string, string> =
      job.jobType === 2
        ? { Liveness_Check: NA, Selfie_Provided: selfieProvided, Selfie_To_Registered_Selfie_Compare: 'Not Done' }
        : {
            Human_Review_Compare: NA,
            Human_Review_Liveness_Check: NA,
            Human_Review_Update_Selfie: NA,
            Liveness_Check: NA,
            Register_Selfie: 'Rejected',
            Selfie_Provided: selfieProvided,
          };
    return {
      result: baseResult(job, actions, {
        code: zip.problem.code,
        text: zip.problem.text,
        confidence: '0',
        final: true,
        machine: true,
      }),
      jobSuccess: false,
      reviewFollows: false,
      enrolls: false,
    };
  }
  const verdict = verdictOf(job.sandboxResult);
  if (job.jobType === 2) return authenticationResult(job, verdict, liveness);
  const human = { Human_Review_Compare: NA, Human_Review_Liveness_Check: NA, Human_Review_Update_Selfie: NA };
  if (verdict === 'approved') {
    return {
      result: baseResult(
        job,
        { ...human, Liveness_Check: liveness ? 'Passed' : NA, Register_Selfie: 'Approved', Selfie_Provided: 'Passed' },
        { code: APPROVE_CODE, text: 'Enroll User', confidence: '100', final: true, machine: true },
      ),
      jobSuccess: true,
      reviewFollows: false,
      enrolls: true,
    };
  }
  if (verdict === 'rejected') {
    return {
      // Text and Liveness_Check "Failed" are UNVERIFIED guesses that read sensibly next to the code.
      result: baseResult(
        job,
        { ...human, Liveness_Check: liveness ? 'Failed' : NA, Register_Selfie: 'Rejected', Selfie_Provided: 'Passed' },
        { code: rejectCode, text: 'Enroll User FAIL', confidence: '0', final: true, machine: true },
      ),
      jobSuccess: false,
      reviewFollows: false,
      enrolls: false,
    };
  }
  // 0814 "Provisional Enroll - Under Review" is sourced for a JT1 job (docs/[py] history fixture); for JT4 UNVERIFIED.
  return {
    result: baseResult(
      job,
      {
        ...human,
        Human_Review_Compare: 'Under Review',
        Liveness_Check: liveness ? 'Passed' : NA,
        Register_Selfie: 'Provisionally Approved',
        Selfie_Provided: 'Passed',
      },
      { code: '0814', text: 'Provisional Enroll - Under Review', confidence: '50', final: false, machine: true },
    ),
    jobSuccess: false,
    reviewFollows: true,
    enrolls: false,
  };
}

/** The result a provisional job gets after human review: always approved in the emulator. */
export function humanReviewResult(job: EmulatorJob, zip: ZipReceipt): IssuedResult {
  const liveness = zip.livenessFrames > 0;
  if (job.jobType === 2) {
    return {
      result: baseResult(
        job,
        {
          Human_Review_Compare: 'Passed',
          Liveness_Check: liveness ? 'Passed' : NA,
          Selfie_Provided: 'Passed',
          Selfie_To_Registered_Selfie_Compare: 'Completed',
        },
        { code: '1220', text: 'Authenticate User', confidence: '100', final: true, machine: false },
      ),
      jobSuccess: true,
      reviewFollows: false,
      enrolls: false,
    };
  }
  return {
    // 1210 "Enroll User" after human review, as in the docs' history fixture. "Passed" for the review action is UNVERIFIED.
    result: baseResult(
      job,
      {
        Human_Review_Compare: 'Passed',
        Human_Review_Liveness_Check: NA,
        Human_Review_Update_Selfie: NA,
        Liveness_Check: liveness ? 'Passed' : NA,
        Register_Selfie: 'Approved',
        Selfie_Provided: 'Passed',
      },
      { code: '1210', text: 'Enroll User', confidence: '100', final: true, machine: false },
    ),
    jobSuccess: true,
    reviewFollows: false,
    enrolls: true,
  };
}

/** Minimal JT2 (SmartSelfie Authentication) results. Codes 0820/0821/0822/1220 are UNVERIFIED. */
function authenticationResult(job: EmulatorJob, verdict: Verdict, liveness: boolean): IssuedResult {
  const base = { Human_Review_Compare: NA, Liveness_Check: liveness ? 'Passed' : NA, Selfie_Provided: 'Passed' };
  if (verdict === 'approved') {
    return {
      result: baseResult(
        job,
        { ...base, Selfie_To_Registered_Selfie_Compare: 'Completed' },
        {
          code: '0820',
          text: 'Authenticate User Machine Judgement - PASS',
          confidence: '100',
          final: true,
          machine: true,
        },
      ),
      jobSuccess: true,
      reviewFollows: false,
      enrolls: false,
    };
  }
  if (verdict === 'rejected') {
    return {
      result: baseResult(
        job,
        { ...base, Selfie_To_Registered_Selfie_Compare: 'Failed' },
        { code: '0821', text: 'Images did not match', confidence: '0', final: true, machine: true },
      ),
      jobSuccess: false,
      reviewFollows: false,
      enrolls: false,
    };
  }
  return {
    result: baseResult(
      job,
      { ...base, Human_Review_Compare: 'Under Review', Selfie_To_Registered_Selfie_Compare: 'Under Review' },
      {
        code: '0822',
        text: 'Authenticate User - Under Review',
        confidence: '50',
        final: false,
        machine: true,
      },
    ),
    jobSuccess: false,
    reviewFollows: true,
    enrolls: false,
  };
}
