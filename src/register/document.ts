import { resultObject } from '../smile/outcome.js';
import type { Outcome } from '../smile/outcome.js';
import type { Actions, JobStatusResponse, ResultObject } from '../smile/types.js';
import type { Environment } from '../config/validate.js';
import type { FaceCheckState } from '../selfie/check.js';

/**
 * The JSON document of one registration (product.md "JSON output"): what `register --json`,
 * `status --json` and `callback verify --json` print, and what every bulk report row extends.
 * Scripts rely on these keys; they are snake_case and only ever added to.
 */
export interface RegistrationDocument {
  ok: boolean;
  outcome: Outcome;
  environment: Environment;
  user_id: string;
  job_id: string;
  smile_job_id: string | null;
  result_code: string | null;
  result_text: string | null;
  actions: Actions;
  job_complete: boolean;
  job_success: boolean;
  result: ResultObject | string | null;
  history?: ResultObject[];
  image_links?: Record<string, string>;
  /** `--expect`: the outcome the run was told to expect. */
  expected?: Outcome;
  /** How the selfie's face check went (`passed`, `skipped` with --skip-face-check, `unavailable`); absent when no selfie was sent. */
  face_check?: FaceCheckState;
  /** How many liveness frames were sent with the selfie (register and bulk rows that sent a job). */
  liveness_frames?: number;
}

/** What a result card (text or ink) shows of a document. */
export type ResultCardFields = Pick<
  RegistrationDocument,
  'outcome' | 'user_id' | 'job_id' | 'smile_job_id' | 'result_code' | 'result_text' | 'actions'
> &
  Partial<Pick<RegistrationDocument, 'environment' | 'expected' | 'liveness_frames'>>;

/** What a registration document is made of. */
export interface DocumentSource {
  outcome: Outcome;
  environment: Environment;
  userId: string;
  jobId: string;
  smileJobId: string | undefined;
  status: JobStatusResponse | undefined;
  /** The selfie's face check, when this run sent a selfie. */
  faceCheck?: FaceCheckState | undefined;
  /** Liveness frames sent, when this run sent the job. */
  livenessFrames?: number | undefined;
}

export function registrationDocument(result: DocumentSource): RegistrationDocument {
  const object = resultObject(result.status);
  const status = result.status;
  return {
    ok: result.outcome === 'approved' || result.outcome === 'submitted',
    outcome: result.outcome,
    environment: result.environment,
    user_id: result.userId,
    job_id: result.jobId,
    smile_job_id: result.smileJobId ?? (typeof object?.SmileJobID === 'string' ? object.SmileJobID : null),
    result_code: object?.ResultCode ?? null,
    result_text: object?.ResultText ?? (typeof status?.result === 'string' ? status.result : null),
    actions: object?.Actions ?? {},
    job_complete: status?.job_complete ?? false,
    job_success: status?.job_success ?? false,
    result: status?.result ?? null,
    ...(status?.history ? { history: status.history } : {}),
    ...(status?.image_links ? { image_links: status.image_links } : {}),
    ...(result.faceCheck ? { face_check: result.faceCheck } : {}),
    ...(result.livenessFrames === undefined ? {} : { liveness_frames: result.livenessFrames }),
  };
}
