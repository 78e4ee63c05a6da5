/** Wire shapes of the v1 flow (smile-api.md §3, §5, §7). Only what the tool reads or writes. */

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
  /** Geo information: not in any SDK's prep upload; `smile` sends it here and in info.json (see package.ts). */
  geo_info?: GeoInfo;
}

export interface GeoInfo {
  latitude: number;
  longitude: number;
  altitude?: number;
}

/** `POST /v1/upload` 200 response (§3.3). */
export interface PrepUploadResponse {
  upload_url: string;
  ref_id: string;
  smile_job_id: string;
  camera_config?: string | null;
  code: string;
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
