import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import selfieCheck from '../../../src/commands/selfie-check.js';
import selfiePrepare from '../../../src/commands/selfie-prepare.js';
import type { SelfieKind } from '../../../src/selfie/rules.js';
import { runDefinition } from '../../helpers/run-command.js';
import type { CommandIo } from '../../helpers/run-command.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
export const GOOD = `${FIXTURES}selfies/`;
export const BAD = `${FIXTURES}bad/`;

/** A writable stream that keeps what was written, as text and as bytes. */
export class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}

export function captureIo(): { stdout: Capture; stderr: Capture } {
  return { stdout: new Capture(), stderr: new Capture() };
}

/** `smile selfie check FILES` run through its command definition, on captured streams. */
export async function runSelfieCheck(
  files: string[],
  opts: { json: boolean; color: boolean; kind?: SelfieKind; skipFaceCheck?: boolean },
  io: CommandIo,
): Promise<number> {
  const values = { files, liveness: opts.kind === 'liveness', skipFaceCheck: opts.skipFaceCheck ?? false };
  return runDefinition(selfieCheck, values, io, opts);
}

/** `smile selfie prepare IN OUT` run through its command definition, on captured streams. */
export async function runSelfiePrepare(
  input: string,
  output: string,
  opts: { json: boolean; color?: boolean; kind?: SelfieKind },
  io: CommandIo,
): Promise<number> {
  const values = { input, output, liveness: opts.kind === 'liveness', skipFaceCheck: false };
  return runDefinition(selfiePrepare, values, io, opts);
}

export type Expected = Array<`${string}:${'error' | 'warning'}`>;

/** Every file of fixtures/bad/ and the findings it must produce (code:severity, in order). */
export const BAD_FIXTURES: Record<string, Expected> = {
  'zero-bytes.jpg': ['empty_file:error'],
  'truncated.jpg': ['truncated:error'],
  'truncated.png': ['truncated:error'],
  'corrupt-entropy.jpg': ['corrupt:error'],
  'text-renamed.jpg': ['not_an_image:error'],
  'document.pdf': ['not_an_image:error'],
  'login-page-saved-as.jpg': ['not_an_image:error'],
  'animated.gif': ['animated:error'],
  'animated.webp': ['animated:error'],
  'multi-page.tiff': ['multi_page:error'],
  'pixel-bomb.png': ['too_many_pixels:error'],
  'drawing.svg': ['unsupported_format:error'],
  'iphone-photo.heic': ['unsupported_format:error'],
  'bitmap.bmp': ['unsupported_format:error'],
  'tiny.jpg': ['too_small:error'],
  'sliver.png': ['too_small:error'],
  'cmyk.jpg': ['colour_space:warning'],
  'display-p3.jpg': [],
  '16-bit.png': [],
  'alpha.png': ['transparency:warning'],
  'exif-rotated.jpg': ['exif_rotated:warning'],
  'low-resolution.jpg': ['low_resolution:warning'],
  'very-dark.jpg': ['too_dark:warning'],
  'very-bright.jpg': ['too_bright:warning'],
  'blurred.jpg': ['blurry:warning'],
  'greyscale.jpg': ['greyscale:warning'],
  'selfie.webp': [],
  'selfie.avif': [],
  'selfie.tiff': ['low_resolution:warning'],
  'single-frame.gif': ['low_resolution:warning'],
  'jpeg-named.heic': ['extension_mismatch:warning'],
};
