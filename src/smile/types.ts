/**
 * Wire shapes of the v1 flow (smile-api.md §3, §5, §7). Only what the tool reads or writes, and
 * the checks that answers from the server have these shapes before anything is taken from them.
 */
import type * as Zod from 'zod';
import { isLoopbackUrl } from '../config/validate.js';

export type PartnerParams = {
  user_id: string;
  job_id: string;
  job_type: number;
} & Record<string, string | number>;

/** `POST /v1/upload` body (§3.2). */
export interface PrepUploadRequest {
  source_sdk: string;
  source_sdk_version: string;
  file_name: string;
  smile_client_id: string;
  timestamp: string;
  signature: string;
  partner_params: PartnerParams;
  model_parameters: Record<string, never>;
  callback_url?: string;
  allow_new_enroll?: boolean;
  use_enrolled_image?: boolean;
  retry?: boolean;
  /** Capture metadata, as the Android SDK sends it; smile sends only `geolocation` (see package.ts). */
  metadata?: Metadatum[];
}

/** A location as typed (`--geo`, CSV latitude/longitude/altitude). Altitude is never sent (package.ts). */
export interface GeoInfo {
  latitude: number;
  longitude: number;
  altitude?: number;
}

/**
 * One entry of the prep upload's `metadata` array: smileidentity/android
 * 0b223384:lib/src/main/java/com/smileidentity/metadata/models/Metadatum.kt (`name`, `value`,
 * `timestamp`), `value` written as plain JSON by `ValueJsonAdapter` (same commit, networking/Retrofit.kt).
 */
export interface Metadatum {
  name: string;
  value: unknown;
  timestamp: string;
}

/** The `geolocation` metadatum's value: exactly the four keys Android's LocationMetadata.kt sends. */
export interface GeolocationValue {
  latitude: number;
  longitude: number;
  accuracy: 'precise' | 'approximate' | 'unknown';
  source: 'gps' | 'network' | 'fused' | 'unknown';
}

/** `POST /v1/upload` 200 response (§3.3). Unknown extra keys are kept as they came. */
export interface PrepUploadResponse {
  upload_url: string;
  ref_id?: string;
  smile_job_id: string;
  camera_config?: string | null;
  code?: string;
  [key: string]: unknown;
}

/** `Actions` of a result (§6.3): values are strings such as "Approved", "Passed", "Not Applicable". */
export type Actions = Record<string, string>;

/** A job's result object (§5.2, §7). Values are strings on the wire; kept verbatim. */
export interface ResultObject {
  Actions?: Actions;
  ResultCode?: string;
  ResultText?: string;
  ResultType?: string;
  SmileJobID?: string;
  PartnerParams?: Record<string, string | number>;
  ConfidenceValue?: string;
  IsFinalResult?: string;
  IsMachineResult?: string;
  Source?: string;
  [key: string]: unknown;
}

/** `POST /v1/job_status` response (§5.2). `result` is a plain string while no zip has arrived. */
export interface JobStatusResponse {
  timestamp: string;
  signature: string;
  job_complete: boolean;
  job_success: boolean;
  code: string;
  result?: ResultObject | string | null;
  history?: ResultObject[];
  image_links?: Record<string, string>;
  [key: string]: unknown;
}

/** Error body of any v1 endpoint (§6.4). */
export interface SmileErrorBody {
  code: string;
  error: string;
}

/** Image type ids (§4.1) that `smile` uses. */
export const ImageType = { selfieFile: 0, livenessFile: 4 } as const;

/** What is wrong with an answer: the field (a path such as `result.ResultCode`) and a sentence about it. */
export interface AnswerProblem {
  field: string;
  message: string;
}

interface AnswerSchemas {
  prepUpload: Zod.ZodType;
  jobStatus: Zod.ZodType;
  resultObject: Zod.ZodType;
}

let schemas: Promise<AnswerSchemas> | undefined;

/**
 * The schemas of §3.3 and §5.2, built on first use: zod loads only when an answer arrives, not
 * when a command starts. Objects are loose: unknown keys pass through verbatim (the JSON output
 * shows the result object as Smile ID sent it); the keys smile reads must have their types.
 */
function answerSchemas(): Promise<AnswerSchemas> {
  schemas ??= import('zod').then(({ z }) => {
    const text = z.string();
    const resultObject = z.looseObject({
      Actions: z.record(z.string(), text).optional(),
      ResultCode: text.optional(),
      ResultText: text.optional(),
      ResultType: text.optional(),
      SmileJobID: text.optional(),
      // "all values including the job_type are strings", but the docs' own example has an int 4.
      PartnerParams: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      ConfidenceValue: text.optional(),
      IsFinalResult: text.optional(),
      IsMachineResult: text.optional(),
      Source: text.optional(),
    });
    const jobStatus = z.looseObject({
      timestamp: text,
      signature: text,
      job_complete: z.boolean(),
      job_success: z.boolean(),
      code: text,
      // An object, or a plain string while no zip has arrived (§5.2); checked below by kind.
      result: z.unknown().optional(),
      history: z.array(resultObject).optional(),
      image_links: z.record(z.string(), text).optional(),
    });
    const prepUpload = z.looseObject({
      // Its scheme and host are checked after the type (https, or http to this machine only).
      upload_url: text,
      // Printed and journalled: a short printable string (a 10-digit one from Smile ID).
      smile_job_id: text
        .min(1)
        .max(64)
        // eslint-disable-next-line no-control-regex
        .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/),
      ref_id: text.optional(),
      camera_config: text.nullable().optional(),
      code: text.optional(),
    });
    return { prepUpload, jobStatus, resultObject };
  });
  return schemas;
}

/**
 * Load the answer checks now (zod), so that a command can do it before its --timeout clock
 * starts: on a busy machine the import alone can take a good part of a short deadline.
 */
export async function loadAnswerChecks(): Promise<void> {
  await answerSchemas();
}

/** The first problem of a prep upload answer (§3.3), or undefined when it is usable. */
export async function checkPrepUploadAnswer(answer: unknown): Promise<AnswerProblem | undefined> {
  const { prepUpload } = await answerSchemas();
  const problem = firstProblem(prepUpload, answer, []);
  if (problem) return problem;
  const raw = (answer as { upload_url: string }).upload_url;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { field: 'upload_url', message: 'upload_url is not a URL' };
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))) return undefined;
  const what = url.protocol === 'http:' ? `plain http to ${url.host}` : `a ${url.protocol} URL`;
  return {
    field: 'upload_url',
    message: `upload_url is ${what}: smile sends the selfie only to an https address (plain http only to this machine)`,
  };
}

/** The first problem of a job_status answer (§5.2), or undefined when it is usable. */
export async function checkJobStatusAnswer(answer: unknown): Promise<AnswerProblem | undefined> {
  const { jobStatus, resultObject } = await answerSchemas();
  const problem = firstProblem(jobStatus, answer, []);
  if (problem) return problem;
  const result = (answer as { result?: unknown }).result;
  if (result === undefined || result === null || typeof result === 'string') return undefined;
  if (typeof result !== 'object' || Array.isArray(result)) {
    return { field: 'result', message: `result should be an object or a string, not ${describeValue(result)}` };
  }
  return firstProblem(resultObject, result, ['result']);
}

function firstProblem(schema: Zod.ZodType, value: unknown, prefix: PropertyKey[]): AnswerProblem | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  if (!issue)
    return {
      field: prefix.map(String).join('.') || '(answer)',
      message: 'the answer does not have the expected shape',
    };
  const path = [...prefix, ...issue.path];
  if (path.length === 0)
    return {
      field: '(answer)',
      message: value === undefined ? 'it is not JSON' : `it is ${describeValue(value)}, not a JSON object`,
    };
  const field = formatPath(path);
  const actual = valueAt(value, issue.path);
  switch (issue.code) {
    case 'invalid_type':
    case 'invalid_union':
      if (actual === undefined && issue.code === 'invalid_type')
        return { field, message: `${field} is missing (it should be ${expectedText(issue)})` };
      return { field, message: `${field} should be ${expectedText(issue)}, not ${describeValue(actual)}` };
    case 'too_small':
      return { field, message: `${field} is empty` };
    case 'too_big':
      return { field, message: `${field} is too long` };
    case 'invalid_format':
      return { field, message: `${field} contains control characters` };
    default:
      return { field, message: `${field} is not usable` };
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
  object: 'an object',
  record: 'an object',
  array: 'a list',
};

function expectedText(issue: Zod.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return EXPECTED[issue.expected] ?? issue.expected;
  if (issue.code === 'invalid_union') {
    const options = issue.errors
      .flat()
      .flatMap((sub) => (sub.code === 'invalid_type' ? [EXPECTED[sub.expected] ?? sub.expected] : []));
    if (options.length > 0) return [...new Set(options)].join(' or ');
  }
  return 'another type';
}

/** `result.Actions.Register_Selfie`, `history[0].ResultCode`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      // Keys come from the server: only printable characters reach the message.
      const key = String(part)
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
        .slice(0, 64);
      out += out === '' ? key : `.${key}`;
    }
  }
  return out || '(answer)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    default:
      return typeof value;
  }
}
