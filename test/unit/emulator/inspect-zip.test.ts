import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { inspectUploadedZip, isJpeg } from '../../../src/emulator/inspect-zip.js';
import { seededRandom } from '../../../src/emulator/faults.js';
import { FAKE_JPEG, PNG_BYTES, makeZip } from './helpers.js';

describe('inspectUploadedZip', () => {
  it('finds a type 0 selfie file and counts liveness frames', () => {
    const zip = makeZip({
      images: [
        { image_type_id: 0, image: '', file_name: 'selfie.jpg' },
        { image_type_id: 4, file_name: 'l1.jpg' },
        { image_type_id: 4, file_name: 'missing.jpg' },
        { image_type_id: 6, image: 'AAAA' },
      ],
      files: { 'selfie.jpg': FAKE_JPEG, 'l1.jpg': FAKE_JPEG },
    });
    const found = inspectUploadedZip(zip);
    expect(found.problem).toBeNull();
    expect(found.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
    expect(found.livenessFrames).toBe(2);
    expect(found.selfieBytes).toEqual(FAKE_JPEG);
  });

  it('matches file_name by basename (SDKs send paths) and strips a data: prefix from base64', () => {
    const byPath = inspectUploadedZip(makeZip({ images: [{ image_type_id: 0, file_name: '/tmp/x/selfie.jpg' }] }));
    expect(byPath.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
    const dataUrl = `data:image/jpeg;base64,${Buffer.from(FAKE_JPEG).toString('base64')}`;
    const b64 = inspectUploadedZip(makeZip({ images: [{ image_type_id: '2', image: dataUrl }], files: {} }));
    expect(b64.selfie).toEqual({ source: 'base64' });
  });

  it('uses the first usable selfie and explains unusable ones', () => {
    const found = inspectUploadedZip(
      makeZip({
        images: [
          { image_type_id: 0, file_name: 'a.png' },
          { image_type_id: 0, file_name: 'b.jpg' },
        ],
        files: { 'a.png': PNG_BYTES, 'b.jpg': FAKE_JPEG },
      }),
    );
    expect(found.selfie).toEqual({ source: 'file', entry: 'b.jpg' });
    const none = inspectUploadedZip(
      makeZip({ images: [{ image_type_id: 0, file_name: 'a.png' }], files: { 'a.png': PNG_BYTES } }),
    );
    expect(none.problem).toMatchObject({ code: '0001', detail: 'selfie file a.png is not a JPEG' });
  });

  it('isJpeg checks the FF D8 FF magic only', () => {
    expect(isJpeg(FAKE_JPEG)).toBe(true);
    expect(isJpeg(PNG_BYTES)).toBe(false);
    expect(isJpeg(new Uint8Array([0xff, 0xd8]))).toBe(false);
    expect(isJpeg(null)).toBe(false);
  });

  it('never throws, whatever the bytes (seeded fuzz of random and mangled zips)', () => {
    const random = seededRandom(2024);
    const good = zipSync({
      'info.json': strToU8(JSON.stringify({ images: [{ image_type_id: 0, file_name: 's.jpg' }] })),
      's.jpg': FAKE_JPEG,
    });
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(good);
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? bytes.slice(0, Math.floor(random() * bytes.length)) : bytes;
      const found = inspectUploadedZip(cut);
      expect(found.problem === null || typeof found.problem.code === 'string').toBe(true);
    }
    for (let i = 0; i < 50; i++) {
      const noise = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      expect(inspectUploadedZip(noise).problem?.code).toBe('0903');
    }
  });

  it('treats odd but valid JSON in info.json sensibly', () => {
    for (const text of ['null', '42', '"str"', '[]']) {
      expect(inspectUploadedZip(makeZip({ infoText: text })).problem?.code, text).toBe('2203');
    }
    expect(inspectUploadedZip(makeZip({ info: {} })).problem?.code).toBe('0001');
  });
});
