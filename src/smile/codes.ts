/**
 * Smile ID result and error codes (smile-api.md §6) with what they mean for the user and what to do.
 * One table for `smile explain` and for every message register/status/bulk print.
 */

export type CodeFamily = 'result' | 'error' | 'job_status' | 'http' | 's3';
/** Which exit-code family an error code maps to (product.md). */
export type CodeExit = 'auth' | 'refused' | 'api' | 'not_final' | 'ok';

export interface CodeInfo {
  code: string;
  family: CodeFamily;
  title: string;
  meaning: string;
  /** Does the code end the job/request for good (retrying the same request will not help)? */
  final: boolean;
  exit: CodeExit;
  hint: string;
  /** Set when no source confirms the code's text (smile-api.md UNVERIFIED). */
  unverified?: boolean;
}

/**
 * Smile ID's documented re-enrolment route, for when the per-request `allow_new_enroll` was sent and
 * 2209 still came back (issue 13 item 6): "Re-enroll a User ID … POST
 * https://[env].smileidentity.com/api/v2/partner/enrollee" with `"allow_new_enroll": true`
 * (docs.usesmileid.com/further-reading/faqs/how-to-re-enroll-deactivate-or-block-a-user; smile-api.md §6.5).
 */
export const REENROLL_ROUTE =
  'Smile ID did not honour allow_new_enroll for this user_id. Allow re-enrolment through Smile ID\'s enrollee endpoint — POST https://portal.smileidentity.com/api/v2/partner/enrollee (sandbox) or https://prod.smileidentity.com/api/v2/partner/enrollee (production) with "allow_new_enroll": true, your partner_id, the user_id, environment, email, timestamp and signature (docs.usesmileid.com/further-reading/faqs/how-to-re-enroll-deactivate-or-block-a-user) — or ask Smile ID support, then register again.';

/** The hint of a 2209 answered to a request that did send `allow_new_enroll: true`. */
export const REENROLL_AFTER_FLAG_HINT = `--allow-re-enroll was sent (allow_new_enroll: true) and the user is still refused as already enrolled. ${REENROLL_ROUTE}`;

const table: CodeInfo[] = [
  // Results (job finished; smile-api.md §6.2). Outcomes are derived from job_success/Actions, not these codes.
  // Job type 4 (issue 13 item 5): the only Smile ID source with a JT4 ResultCode is its bulk back-fill
  // README, which answers "custom job type 4" with `"ResultCode": "0840", "ResultText": "Enroll User"`
  // (smileidentity/Image-enroll@3e9a025:README.md:24,101-102). 0810 "Enroll User" appears in Smile ID's
  // fixtures only for job type 1 (smile-identity-core-python@e61c831:tests/conftest.py; docs
  // job-status example) and job type 2 ([node] tests). 0841 (fail) and 0813 (= document verification)
  // come only from a third-party integration's code list: UNVERIFIED.
  {
    code: '0840',
    family: 'result',
    title: 'Enroll User',
    meaning:
      'The machine approved the registration: the selfie is on file for this user_id. Smile ID\'s own job type 4 example answers this code (third-party lists call it "Enroll User PASS - Machine Judgement").',
    final: true,
    exit: 'ok',
    hint: 'Nothing to do. The user can now be authenticated (job type 2).',
  },
  {
    code: '0841',
    family: 'result',
    title: 'Enroll User FAIL',
    meaning:
      "The registration was rejected. The emulator answers this code for a rejected registration; only a third-party integration lists it, Smile ID's docs do not.",
    final: true,
    exit: 'refused',
    hint: 'Look at Actions for the failed check; take a new, well-lit selfie of the person and register again with a new job id.',
    unverified: true,
  },
  {
    code: '0810',
    family: 'result',
    title: 'Enroll User',
    meaning:
      "Approved by the machine. Smile ID's examples show it for Biometric KYC (job type 1) and SmartSelfie authentication (job type 2); for a registration (job type 4) Smile ID's own example answers 0840.",
    final: true,
    exit: 'ok',
    hint: 'Nothing to do. The user can now be authenticated (job type 2).',
  },
  {
    code: '0813',
    family: 'result',
    title: 'Document Not Verified - Machine Judgement',
    meaning:
      'A document verification (job type 6) rejected by the machine, per a third-party integration; not a SmartSelfie registration code (earlier smile emulators used it for a rejected registration).',
    final: true,
    exit: 'refused',
    hint: 'smile registers selfies only (job type 4); if a registration answered this, look at Actions for the failed check and register again with a new job id.',
    unverified: true,
  },
  {
    code: '0814',
    family: 'result',
    title: 'Provisional Enroll - Under Review',
    meaning: 'The job waits for a human review at Smile ID; a final result follows.',
    final: false,
    exit: 'not_final',
    hint: 'Wait for the callback or run `smile status --user-id U --job-id J --wait` later.',
  },
  {
    code: '1210',
    family: 'result',
    title: 'Enroll User (human review)',
    meaning: 'Approved after a human review.',
    final: true,
    exit: 'ok',
    hint: 'Nothing to do.',
  },
  {
    code: '0820',
    family: 'result',
    title: 'Authenticate User Machine Judgement - PASS',
    meaning:
      'A SmartSelfie authentication (job type 2) matched the registered selfie (code seen only in third-party sources).',
    final: true,
    exit: 'ok',
    hint: 'Nothing to do; smile itself only registers (job type 4).',
    unverified: true,
  },
  {
    code: '0821',
    family: 'result',
    title: 'Images did not match',
    meaning:
      'A SmartSelfie authentication (job type 2) did not match the registered selfie (code seen only in third-party sources).',
    final: true,
    exit: 'refused',
    hint: 'Check it is the same person; if the registered selfie is poor, register again with --allow-re-enroll.',
    unverified: true,
  },
  {
    code: '0907',
    family: 'result',
    title: 'FAIL - Possible Spoof - Strict Setting',
    meaning: 'The liveness check suspects a photo of a photo, a screen or a mask.',
    final: true,
    exit: 'refused',
    hint: 'Capture the person live, with liveness frames (--liveness), not a photo of a photo.',
  },
  {
    code: '0903',
    family: 'result',
    title: 'Zip Corrupt',
    meaning: 'Smile ID could not open the uploaded zip.',
    final: true,
    exit: 'refused',
    hint: 'Register again with a new job id; if it repeats, report a bug in smile with --debug output.',
  },
  {
    code: '0001',
    family: 'result',
    title: 'Selfie image unusable',
    meaning: 'The selfie was corrupt or missing from the zip.',
    final: true,
    exit: 'refused',
    hint: 'Run `smile selfie check FILE` and register again with a usable selfie.',
  },
  // Errors (request refused, no Smile job id; §6.4).
  {
    code: '2201',
    family: 'error',
    title: 'System Error',
    meaning: 'An unknown error at Smile ID.',
    final: false,
    exit: 'api',
    hint: 'Try again in a few minutes; if it persists, contact Smile ID support with the job id.',
  },
  {
    code: '2301',
    family: 'error',
    title: 'System Error',
    meaning: 'An unknown error at Smile ID.',
    final: false,
    exit: 'api',
    hint: 'Try again in a few minutes; if it persists, contact Smile ID support with the job id.',
  },
  {
    code: '2401',
    family: 'error',
    title: 'System Error',
    meaning: 'An unknown error at Smile ID.',
    final: false,
    exit: 'api',
    hint: 'Try again in a few minutes; if it persists, contact Smile ID support with the job id.',
  },
  {
    code: '2202',
    family: 'error',
    title: 'Upload prepared',
    meaning: 'Success code of /v1/upload: the upload URL was issued.',
    final: true,
    exit: 'ok',
    hint: 'Nothing to do.',
  },
  {
    code: '2203',
    family: 'error',
    title: 'Invalid JSON',
    meaning: 'The info.json in the zip, or a request body, was not valid JSON.',
    final: true,
    exit: 'refused',
    hint: 'This is a bug in smile: report it with the --debug output (the key is redacted).',
  },
  // 2204 has two readings: the error-code table says "A parameter is of the wrong data type"
  // (docs.usesmileid.com/further-reading/result-codes/error-codes); the troubleshooting page says
  // "Error code 2204 & 2205 are authorisation errors" — wrong key or environment, wrong URL, a badly
  // formed timestamp, or a timestamp that differs from the signed one
  // (docs.smileidentity.com/further-reading/troubleshooting/troubleshooting-error-2204-and-2205-youre-not-authorized-to-do-that).
  // smile sends no field of a wrong type (its bodies are typed and checked), so the authorisation
  // reading is the likely one: exit 3 (auth), as for 2205.
  {
    code: '2204',
    family: 'error',
    title: 'Not authorized, or a parameter of the wrong data type',
    meaning:
      'Smile ID\'s troubleshooting page calls 2204, like 2205, an authorisation error: the signature was made with a wrong API key or one of the other environment, sent to the other environment\'s URL, or with a timestamp that is badly formed or not the one signed. Its error-code table reads it as "A parameter is of the wrong data type".',
    final: true,
    exit: 'auth',
    hint: 'Check the API key and partner id (`smile profile show`), that the key belongs to this environment and --base-url (sandbox and production keys differ), and the clock and timestamps (`smile doctor`). If all are right, a field may have the wrong data type: check that --param values are plain strings, then report a bug with the --debug output (the key is redacted).',
  },
  {
    code: '2205',
    family: 'error',
    title: 'You are not authorized to do that',
    meaning:
      'The request signature was refused: wrong API key, a key of the other environment, a wrong partner id, or a clock that is off.',
    final: true,
    exit: 'auth',
    hint: 'Check the API key and partner id (`smile profile show`), that the key belongs to this environment (sandbox and production keys differ), and the clock (`smile doctor`).',
  },
  {
    code: '2405',
    family: 'error',
    title: 'You are not authorized to do that',
    meaning: 'The request signature was refused.',
    final: true,
    exit: 'auth',
    hint: 'Check the API key, the environment and the clock (`smile doctor`).',
  },
  {
    code: '2207',
    family: 'error',
    title: 'Enrolled user is disabled',
    meaning: 'This user_id was deactivated.',
    final: true,
    exit: 'refused',
    hint: 'Re-activate the user in the Smile ID portal, then register again.',
  },
  {
    code: '2208',
    family: 'error',
    title: 'Enrolled user is deleted',
    meaning: 'This user_id was deleted and can never be used again.',
    final: true,
    exit: 'refused',
    hint: 'Register the person under a new user_id.',
  },
  {
    code: '2209',
    family: 'error',
    title: 'User already enrolled',
    meaning: 'This user_id already has a registration.',
    final: true,
    exit: 'refused',
    hint: `To replace the selfie on file, run again with --allow-re-enroll (bulk: --if-enrolled replace). If 2209 comes back although it was given: ${REENROLL_ROUTE}`,
  },
  {
    code: '2210',
    family: 'error',
    title: 'No enrolled user found',
    meaning: 'The user_id has no registration (authentication needs one).',
    final: true,
    exit: 'refused',
    hint: 'Register the user first with `smile register`.',
  },
  {
    code: '2211',
    family: 'error',
    title: 'Enrolled user must complete re-enrollment',
    meaning: 'Smile ID asks for this user to be registered again.',
    final: true,
    exit: 'refused',
    hint: 'Run `smile register --allow-re-enroll` for this user with a new selfie.',
  },
  {
    code: '2212',
    family: 'error',
    title: 'Invalid job type',
    meaning: 'The job type is not enabled or not valid for this account.',
    final: true,
    exit: 'refused',
    hint: 'Ask Smile ID to enable SmartSelfie registration (job type 4) for your partner id.',
  },
  {
    code: '2213',
    family: 'error',
    title: 'A required parameter is missing',
    meaning: 'A required request field was missing.',
    final: true,
    exit: 'refused',
    hint: 'This is likely a bug in smile: report it with the --debug output.',
  },
  {
    code: '2413',
    family: 'error',
    title: 'A required parameter is missing',
    meaning: 'A required request field was missing.',
    final: true,
    exit: 'refused',
    hint: 'This is likely a bug in smile: report it with the --debug output.',
  },
  {
    code: '2214',
    family: 'error',
    title: 'Unknown error 2214',
    meaning: 'Listed in Smile ID mobile SDKs without a documented text.',
    final: true,
    exit: 'refused',
    hint: 'Contact Smile ID support with the job id.',
    unverified: true,
  },
  {
    code: '2215',
    family: 'error',
    title: 'Job already exists for job_id',
    meaning: 'This job_id was used before.',
    final: true,
    exit: 'refused',
    hint: 'See its result with `smile status --user-id U --job-id J`, or register with a new --job-id (omit it to get a fresh one).',
  },
  {
    code: '2216',
    family: 'error',
    title: 'Enrolled user does not have a photo on file',
    meaning:
      '--use-enrolled-image updates the selfie on file, and this user has none (that the real server answers 2216 to a job_type 4 is UNVERIFIED).',
    final: true,
    exit: 'refused',
    hint: 'Register the user without --use-enrolled-image: the new selfie becomes the one on file.',
  },
  {
    code: '2220',
    family: 'error',
    title: 'Production is not enabled',
    meaning: 'Your partner account is not enabled for production.',
    final: true,
    exit: 'auth',
    hint: 'Use the sandbox (`--env sandbox`) until Smile ID enables production for your account.',
  },
  {
    code: '2221',
    family: 'error',
    title: 'Unknown error 2221',
    meaning: 'Listed in Smile ID mobile SDKs without a documented text.',
    final: true,
    exit: 'refused',
    hint: 'Contact Smile ID support with the job id.',
    unverified: true,
  },
  {
    code: '2414',
    family: 'error',
    title: 'Unknown error 2414',
    meaning: 'Listed in Smile ID mobile SDKs without a documented text.',
    final: true,
    exit: 'refused',
    hint: 'Contact Smile ID support with the job id.',
    unverified: true,
  },
  // job_status codes (§5.2).
  {
    code: '2302',
    family: 'job_status',
    title: 'Job status returned',
    meaning: 'The job_status call succeeded (seen on complete jobs).',
    final: true,
    exit: 'ok',
    hint: 'Nothing to do.',
  },
  {
    code: '2314',
    family: 'job_status',
    title: 'No zip file received',
    meaning: 'The job exists but its zip never arrived (the upload was interrupted).',
    final: false,
    exit: 'not_final',
    hint: 'If an upload may still be running, wait and ask again with smile status; otherwise register again without --job-id (a new job): the same job id gets 2215, and this job never received its zip.',
  },
  {
    code: '2303',
    family: 'job_status',
    title: 'Job not found (emulator)',
    meaning: "The emulator's answer to job_status for a job it does not know; the real API's answer is not documented.",
    final: true,
    exit: 'refused',
    hint: 'Check --user-id and --job-id: both must match the job register printed.',
    unverified: true,
  },
  // HTTP statuses the tool can meet.
  {
    code: '400',
    family: 'http',
    title: 'Bad Request',
    meaning: 'The API refused the request as malformed; Smile ID puts the reason in a 22xx code.',
    final: true,
    exit: 'refused',
    hint: 'Look up the 22xx code in the message with `smile explain CODE`; run with --debug to see the answer.',
  },
  {
    code: '401',
    family: 'http',
    title: 'Unauthorized',
    meaning: 'The API refused the credentials (Smile ID answers 2205 in the body).',
    final: true,
    exit: 'auth',
    hint: 'Check the API key, partner id, environment and clock with `smile doctor`.',
  },
  {
    code: '404',
    family: 'http',
    title: 'Not Found',
    meaning: 'The URL does not exist: usually a base URL without /v1, or not a Smile ID server.',
    final: true,
    exit: 'api',
    hint: 'Check --base-url / SMILE_BASE_URL: the v1 base including /v1 (e.g. https://testapi.smileidentity.com/v1).',
  },
  {
    code: '403',
    family: 'http',
    title: 'Forbidden (upload URL)',
    meaning: 'The pre-signed upload URL refused the zip: expired, or the content type did not match.',
    final: false,
    exit: 'api',
    hint: 'Register again without --job-id (a new job): the refused zip never reached this job, and the same job id gets 2215. Check the clock (smile doctor) if it keeps happening: an expired URL looks like this.',
  },
  {
    code: '408',
    family: 'http',
    title: 'Request Timeout',
    meaning: 'The server gave up waiting for the request.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically; if it persists check your network.',
  },
  {
    code: '429',
    family: 'http',
    title: 'Too Many Requests',
    meaning: 'Rate limited; Retry-After says when to try again.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically after Retry-After; for bulk lower --rate or --concurrency.',
  },
  {
    code: '500',
    family: 'http',
    title: 'Internal Server Error',
    meaning: 'A failure at the server.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically; try again later if it persists.',
  },
  {
    code: '502',
    family: 'http',
    title: 'Bad Gateway',
    meaning: 'A proxy could not reach Smile ID.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically; try again later if it persists.',
  },
  {
    code: '503',
    family: 'http',
    title: 'Service Unavailable',
    meaning: 'Smile ID is overloaded or down for maintenance.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically; try again later.',
  },
  {
    code: '504',
    family: 'http',
    title: 'Gateway Timeout',
    meaning: 'A proxy timed out waiting for Smile ID.',
    final: false,
    exit: 'api',
    hint: 'Retried automatically; the request may have landed: smile checks before re-sending.',
  },
  // S3 errors of the zip PUT to the pre-signed upload URL (XML <Code>).
  {
    code: 'AccessDenied',
    family: 's3',
    title: 'Access Denied (upload URL)',
    meaning: 'The pre-signed upload URL has expired or is not valid for this object.',
    final: false,
    exit: 'api',
    hint: 'Register again without --job-id (a new job): the zip never reached this job, and the same job id gets 2215. If it keeps happening, check the clock with smile doctor.',
  },
  {
    code: 'SignatureDoesNotMatch',
    family: 's3',
    title: 'Signature does not match (upload URL)',
    meaning: 'The upload URL was changed, or the PUT used another Content-Type than the URL was signed for.',
    final: false,
    exit: 'api',
    hint: 'Register again without --job-id (a new job); if it repeats, a proxy may rewrite the request: report a bug with --debug output.',
  },
  {
    code: 'RequestTimeTooSkewed',
    family: 's3',
    title: 'Request time too skewed (upload URL)',
    meaning: "The storage server found this machine's clock too far off.",
    final: false,
    exit: 'auth',
    hint: 'Synchronise the system clock (`smile doctor` shows the skew), then register again without --job-id (a new job).',
  },
  {
    code: 'EntityTooLarge',
    family: 's3',
    title: 'Upload too large',
    meaning: 'The zip was larger than the storage server accepts.',
    final: true,
    exit: 'refused',
    hint: 'Send fewer or smaller liveness frames; smile already shrinks the selfie.',
  },
];

const byCode = new Map(table.map((entry) => [entry.code.toLowerCase(), entry]));

/** The table entry for a code (`"2209"`, `"0810"`, `"429"`, `"AccessDenied"`), or undefined when unknown. */
export function lookupCode(code: string): CodeInfo | undefined {
  return byCode.get(code.trim().toLowerCase());
}

export function allCodes(): readonly CodeInfo[] {
  return table;
}

/**
 * A code as typed: result codes keep their leading zero ("0810"), but shells and spreadsheets drop
 * it ("810"); a 1–3 digit number that is not a known HTTP status is tried zero-padded.
 */
export function findCode(code: string): CodeInfo | undefined {
  const trimmed = code.trim();
  return lookupCode(trimmed) ?? (/^\d{1,3}$/.test(trimmed) ? lookupCode(trimmed.padStart(4, '0')) : undefined);
}
