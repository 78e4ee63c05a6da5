/** Shared helpers for the emulator tests: real HTTP, real zips, real signatures. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { signedFields } from '../../../src/smile/sign.js';
import type { JobStatusResponse, PrepUploadResponse } from '../../../src/smile/types.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { until } from '../../helpers/wait-for.js';

/** Not a decodable image, but it starts like a JPEG: all the emulator checks (it never decodes). */
export const FAKE_JPEG = Uint8Array.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9,
]);
export const PNG_BYTES = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  init: { gzip?: boolean; raw?: string } = {},
): Promise<HttpResult<T>> {
  const payload = init.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let data: string | Uint8Array = payload;
  if (init.gzip) {
    headers['content-encoding'] = 'gzip';
    data = gzipSync(payload);
  }
  const response = await fetch(url, { method: 'POST', headers, body: data });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export function ids(): { userId: string; jobId: string } {
  return { userId: `user-${randomUUID()}`, jobId: `job-${randomUUID()}` };
}

export interface PrepOptions {
  userId: string;
  jobId: string;
  jobType?: number | string;
  sandboxResult?: string;
  callbackUrl?: string;
  extra?: Record<string, unknown>;
  params?: Record<string, unknown>;
  apiKey?: string;
  partnerId?: string;
  now?: Date;
}

export function prepBody(emu: RunningEmulator, o: PrepOptions): Record<string, unknown> {
  const partnerId = o.partnerId ?? emu.partnerId;
  return {
    source_sdk: 'rest_api',
    source_sdk_version: '1.0.0',
    file_name: 'selfie.zip',
    smile_client_id: partnerId,
    ...signedFields(o.apiKey ?? emu.apiKey, partnerId, o.now),
    partner_params: {
      user_id: o.userId,
      job_id: o.jobId,
      job_type: o.jobType ?? 4,
      ...(o.sandboxResult === undefined ? {} : { sandbox_result: o.sandboxResult }),
      ...o.params,
    },
    model_parameters: {},
    ...(o.callbackUrl ? { callback_url: o.callbackUrl } : {}),
    ...o.extra,
  };
}

export function prepUpload(
  emu: RunningEmulator,
  o: PrepOptions,
): Promise<HttpResult<PrepUploadResponse & { error?: string }>> {
  return postJson(`${emu.baseUrl}/upload`, prepBody(emu, o));
}

export interface ImageSpec {
  image_type_id: number | string;
  file_name?: string;
  image?: string;
}

/** A job zip: info.json (server-SDK shape unless `info` is given) plus the given entries. */
export function makeZip(
  opts: {
    images?: ImageSpec[];
    files?: Record<string, Uint8Array>;
    info?: unknown;
    infoText?: string;
    noInfo?: boolean;
  } = {},
): Uint8Array {
  const images = opts.images ?? [{ image_type_id: 0, image: '', file_name: 'selfie.jpg' }];
  const files: Record<string, Uint8Array> = opts.files ?? { 'selfie.jpg': FAKE_JPEG };
  const info = opts.info ?? {
    package_information: { language: 'typescript' },
    misc_information: { retry: 'false' },
    id_info: { entered: 'false' },
    images,
  };
  const entries: Record<string, Uint8Array> = { ...files };
  if (!opts.noInfo) entries['info.json'] = strToU8(opts.infoText ?? JSON.stringify(info));
  return zipSync(entries);
}

export async function putZip(
  url: string,
  zip: Uint8Array,
  contentType: string | null = 'application/zip',
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType;
  const response = await fetch(url, { method: 'PUT', headers, body: zip });
  return { status: response.status, text: await response.text() };
}

export function jobStatus(
  emu: RunningEmulator,
  userId: string,
  jobId: string,
  extra: Record<string, unknown> = {},
): Promise<HttpResult<JobStatusResponse & { error?: string }>> {
  return postJson(`${emu.baseUrl}/job_status`, {
    partner_id: emu.partnerId,
    user_id: userId,
    job_id: jobId,
    image_links: false,
    history: false,
    ...signedFields(emu.apiKey, emu.partnerId),
    ...extra,
  });
}

/** Polls job_status until job_complete (and, with `final`, IsFinalResult "true"). */
export function waitForResult(
  emu: RunningEmulator,
  userId: string,
  jobId: string,
  final = false,
  extra: Record<string, unknown> = {},
): Promise<JobStatusResponse> {
  return until(
    async () => {
      const status = await jobStatus(emu, userId, jobId, extra);
      if (status.status !== 200) throw new Error(`job_status ${status.status}: ${status.text}`);
      const body = status.body;
      if (!body.job_complete) return undefined;
      if (final && typeof body.result === 'object' && body.result?.IsFinalResult !== 'true') return undefined;
      return body;
    },
    `result of ${jobId}`,
    { everyMs: 10 },
  );
}

/** The whole v1 flow for one job: prep upload, PUT, wait for the result. */
export async function register(
  emu: RunningEmulator,
  o: PrepOptions & { zip?: Uint8Array; final?: boolean },
): Promise<JobStatusResponse> {
  const prep = await prepUpload(emu, o);
  if (prep.status !== 200) throw new Error(`prep upload ${prep.status}: ${prep.text}`);
  const put = await putZip(prep.body.upload_url, o.zip ?? makeZip());
  if (put.status !== 200) throw new Error(`PUT ${put.status}: ${put.text}`);
  return waitForResult(emu, o.userId, o.jobId, o.final ?? false);
}
