import { unzipSync, strFromU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { buildInfoJson, buildJobZip, geolocationMetadatum } from '../../../src/smile/package.js';

const server = {
  upload_url: 'https://uploads.example/x?Signature=abc',
  ref_id: '085-0000000001-abc',
  smile_job_id: '0000000001',
  code: '2202',
};
const jpeg = (n: number) => new Uint8Array([0xff, 0xd8, 0xff, 0xe0, n, 0xff, 0xd9]);

describe('buildJobZip', () => {
  const input = {
    partnerId: '085',
    timestamp: '2025-06-01T10:15:30.123Z',
    signature: 'sig',
    partnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: 4, branch: 'nairobi' },
    callbackUrl: 'https://example.com/cb',
    selfie: jpeg(1),
    liveness: [jpeg(2), jpeg(3)],
    server,
  };

  it("holds info.json, the selfie and the liveness frames under the tool's own names", () => {
    const entries = unzipSync(buildJobZip(input));
    expect(Object.keys(entries).sort()).toEqual(['info.json', 'liveness-01.jpg', 'liveness-02.jpg', 'selfie.jpg']);
    expect([...entries['selfie.jpg']!]).toEqual([...jpeg(1)]);
    expect([...entries['liveness-02.jpg']!]).toEqual([...jpeg(3)]);
  });

  it('writes info.json in the server-SDK format: selfie type 0, liveness type 4', () => {
    const info = JSON.parse(strFromU8(unzipSync(buildJobZip(input))['info.json']!)) as Record<
      string,
      Record<string, unknown>
    >;
    expect(info['images']).toEqual([
      { image_type_id: 0, image: '', file_name: 'selfie.jpg' },
      { image_type_id: 4, image: '', file_name: 'liveness-01.jpg' },
      { image_type_id: 4, image: '', file_name: 'liveness-02.jpg' },
    ]);
    expect(info['misc_information']).toMatchObject({
      signature: 'sig',
      timestamp: '2025-06-01T10:15:30.123Z',
      retry: 'false',
      partner_params: { user_id: 'u-1', job_id: 'job-1', job_type: 4, branch: 'nairobi' },
      file_name: 'selfie.zip',
      smile_client_id: '085',
      callback_url: 'https://example.com/cb',
    });
    expect(info['misc_information']).not.toHaveProperty('geo_info');
    expect(info['server_information']).toEqual(server);
    expect(info['id_info']).toEqual({ entered: 'false' });
    expect(info['package_information']).toMatchObject({ language: 'javascript' });
  });

  it('marks a recovered job as retry "true" and leaves out absent optional fields', () => {
    const info = buildInfoJson({
      ...input,
      retry: true,
      callbackUrl: undefined,
      liveness: [],
    }) as Record<string, Record<string, unknown>>;
    expect(info['misc_information']?.['retry']).toBe('true');
    expect(info['misc_information']).not.toHaveProperty('callback_url');
    expect(info['misc_information']).not.toHaveProperty('geo_info');
    expect(info['images']).toHaveLength(1);
  });

  it('the location is a geolocation metadatum in the Android shape, without altitude', () => {
    expect(geolocationMetadatum({ latitude: -1.29, longitude: 36.82, altitude: 1795 }, 'ts')).toEqual({
      name: 'geolocation',
      value: { latitude: -1.29, longitude: 36.82, accuracy: 'unknown', source: 'unknown' },
      timestamp: 'ts',
    });
  });

  it('is a pure function of its inputs', () => {
    expect(Buffer.from(buildJobZip(input)).equals(Buffer.from(buildJobZip(input)))).toBe(true);
  });
});
