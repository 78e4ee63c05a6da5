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
export async function runSelfieCheck(files: string[], opts: { json: boolean; color: boolean; kind?: SelfieKind }, io: CommandIo): Promise<number> {
  return runDefinition(selfieCheck, { files, liveness: opts.kind === 'liveness' }, io, opts);
}

/** `smile selfie prepare IN OUT` run through its command definition, on captured streams. */
export async function runSelfiePrepare(input: string, output: string, opts: { json: boolean; color?: boolean; kind?: SelfieKind }, io: CommandIo): Promise<number> {
  return runDefinition(selfiePrepare, { input, output, liveness: opts.kind === 'liveness' }, io, opts);
}
