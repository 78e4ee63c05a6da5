import { zipSync } from 'fflate';
import { ImageType } from './types.js';
import type { GeoInfo, GeolocationValue, Metadatum, PartnerParams, PrepUploadResponse } from './types.js';

/** Name sent as `file_name` and in info.json; the zip's real key is in the upload URL. */
export const ZIP_FILE_NAME = 'selfie.zip';
export const SOURCE_SDK = 'rest_api';
export const SOURCE_SDK_VERSION = '1.0.0';

export interface PackageInput {
  partnerId: string;
  /** The same timestamp/signature pair as the prep upload (server SDKs do this too). */
  timestamp: string;
  signature: string;
  partnerParams: PartnerParams;
  callbackUrl?: string | undefined;
  retry?: boolean;
  /** Prepared JPEG bytes of the selfie: a job_type 4 always has one (pipeline.ts refuses otherwise). */
  selfie: Uint8Array;
  /** Prepared JPEG bytes of the liveness frames, in order. */
  liveness?: readonly Uint8Array[];
  server: PrepUploadResponse;
}

export interface InfoJsonImage {
  image_type_id: number;
  image: string;
  file_name: string;
}

/**
 * info.json in the server-SDK format (smile-api.md §3.5). Entry names are the tool's own
 * (`selfie.jpg`, `liveness-01.jpg` …), never taken from input paths.
 */
export function buildInfoJson(input: PackageInput): Record<string, unknown> {
  const images: InfoJsonImage[] = [];
  images.push({ image_type_id: ImageType.selfieFile, image: '', file_name: 'selfie.jpg' });
  (input.liveness ?? []).forEach((_, index) => {
    images.push({ image_type_id: ImageType.livenessFile, image: '', file_name: livenessEntryName(index) });
  });
  return {
    package_information: {
      apiVersion: { buildNumber: 0, majorVersion: 2, minorVersion: 0 },
      language: 'javascript',
    },
    misc_information: {
      signature: input.signature,
      timestamp: input.timestamp,
      retry: input.retry ? 'true' : 'false',
      partner_params: input.partnerParams,
      file_name: ZIP_FILE_NAME,
      smile_client_id: input.partnerId,
      ...(input.callbackUrl ? { callback_url: input.callbackUrl } : {}),
      // No location here: no Smile ID client puts one in info.json; it travels in the prep upload's
      // `metadata` (geolocationMetadatum below).
      userData: {
        isVerifiedProcess: false,
        name: '',
        fbUserID: '',
        firstName: '',
        lastName: '',
        gender: '',
        email: '',
        phone: '',
        countryCode: '+',
        countryName: '',
      },
    },
    id_info: { entered: 'false' },
    images,
    server_information: input.server,
  };
}

export function livenessEntryName(index: number): string {
  return `liveness-${String(index + 1).padStart(2, '0')}.jpg`;
}

/**
 * The zip that is PUT to the upload URL: info.json plus one entry per image file. JPEGs are
 * stored, not deflated again (they do not shrink and deflating costs CPU on bulk runs).
 */
export function buildJobZip(input: PackageInput): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {
    'info.json': [Buffer.from(JSON.stringify(buildInfoJson(input))), { level: 6 }],
  };
  files['selfie.jpg'] = [input.selfie, { level: 0 }];
  (input.liveness ?? []).forEach((frame, index) => {
    files[livenessEntryName(index)] = [frame, { level: 0 }];
  });
  // A fixed mtime keeps the zip a pure function of its inputs.
  return zipSync(files, { mtime: new Date('2000-01-01T00:00:00Z') });
}

/**
 * The location as Smile ID's Android SDK sends it: one entry of the prep upload's `metadata` array
 * named `geolocation` whose value has latitude, longitude, accuracy and source
 * (smileidentity/android e8ac8b80:lib/src/main/java/com/smileidentity/models/PrepUpload.kt:20
 * `metadata: List<Metadatum>?`; 2291a13e:…/metadata/models/MetadataKey.kt:35 `Geolocation("geolocation")`;
 * 05c82ed5:…/metadata/updaters/LocationMetadata.kt:80-86 `updateLocationMetadata`).
 * - accuracy / source: Android classifies the fix it got from the phone (`classifyLocation`:
 *   precise < 20 m, approximate < 100 m, gps/network/fused). A typed coordinate has no known fix,
 *   so smile sends Android's own values for that case, `"unknown"` and `"unknown"`.
 * - altitude: Android's LocationInfo has none, and no other Smile ID client sends one, so it is not
 *   sent (an unknown key could be refused or dropped: UNVERIFIED); --geo still takes it and says so.
 * - timestamp: Android stamps the metadatum when the fix arrives (getCurrentIsoTimestamp, UTC ms);
 *   smile uses the prep upload's own timestamp.
 */
export function geolocationMetadatum(geo: GeoInfo, timestamp: string): Metadatum {
  const value: GeolocationValue = {
    latitude: geo.latitude,
    longitude: geo.longitude,
    accuracy: 'unknown',
    source: 'unknown',
  };
  return { name: 'geolocation', value, timestamp };
}
