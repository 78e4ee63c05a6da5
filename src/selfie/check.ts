import { availableParallelism } from 'node:os';
import { inspectSelfie, readSelfieFile } from './inspect.js';
import type { SelfieFacts } from './inspect.js';
import { prepareInspectedSelfie } from './prepare.js';
import type { PreparedSelfie } from './prepare.js';
import { countedFaces } from './face-rules.js';
import { preloadFaceModels } from './face-detect.js';
import { evaluateSelfie, hasErrors } from './rules.js';
import type { Finding, SelfieKind } from './rules.js';

/** The result of checking one file; the shape of one entry of `smile selfie check --json`. */
export interface SelfieReport {
  path: string;
  /** False when any finding is an error: the file would not be sent. */
  ok: boolean;
  /** Detected format (`jpeg`, `png`, … or what a non-image is: `pdf`, `html`, `text`), null when unknown. */
  format: string | null;
  /** As displayed (EXIF orientation applied); null when not known. */
  width: number | null;
  height: number | null;
  bytes: number;
  /**
   * How the face check went: `passed` (one face), `failed` (no face or more than one), `skipped`
   * (--skip-face-check), `unavailable` (the detector cannot run here); null when the pixels were
   * not looked at (the file has other errors).
   */
  face_check: FaceCheckState | null;
  /** Faces that count (see `smile selfie check --help`); null when the face check did not run. */
  faces: number | null;
  findings: Finding[];
}

export type FaceCheckState = 'passed' | 'failed' | 'skipped' | 'unavailable';

export interface CheckOptions {
  kind: SelfieKind;
  /** --skip-face-check: the operator knows better; recorded as a warning in every report. */
  skipFaceCheck?: boolean;
}

/** Builds the report of one file from its facts and findings. */
export function selfieReport(path: string, facts: SelfieFacts, findings: Finding[]): SelfieReport {
  const sniffed = facts.sniffed === 'unknown' || facts.sniffed === 'empty' ? null : facts.sniffed;
  const check = facts.faceCheck;
  const counted = check?.state === 'done' ? countedFaces(check.facts).length : null;
  return {
    path,
    ok: !hasErrors(findings),
    format: facts.format ?? sniffed,
    width: facts.width,
    height: facts.height,
    bytes: facts.bytes,
    face_check: check === null ? null : check.state === 'done' ? (counted === 1 ? 'passed' : 'failed') : check.state,
    faces: counted,
    findings,
  };
}

/** Checks one selfie (or liveness frame) file: inspects it once and applies the rules. */
export async function checkSelfie(path: string, opts: CheckOptions): Promise<SelfieReport> {
  const facts = await inspectSelfie(path, { faces: !opts.skipFaceCheck });
  return selfieReport(path, facts, evaluateSelfie(facts, opts));
}

/** Runs `task` over `items` with at most `concurrency` at a time; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(concurrency) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Checks many files concurrently (bounded, default: one per CPU); reports are in input order. */
export async function checkSelfieFiles(
  paths: readonly string[],
  opts: CheckOptions & { concurrency?: number },
): Promise<SelfieReport[]> {
  return mapBounded(paths, opts.concurrency ?? availableParallelism(), (path) => checkSelfie(path, opts));
}

export interface LoadedSelfie {
  report: SelfieReport;
  /** The JPEG to send; present exactly when `report.ok`. */
  jpeg?: Buffer;
  /** How `jpeg` was made (changed or byte for byte, and what changed); present with `jpeg`. */
  prepared?: PreparedSelfie;
}

/**
 * For register and bulk: reads the file once, checks it, and when nothing is an error returns
 * the JPEG to send. A good JPEG costs one reduced-size decode (for the statistics); anything
 * that must be normalised costs one more, at the upload size.
 */
export async function loadSelfieForUpload(path: string, opts: CheckOptions): Promise<LoadedSelfie> {
  // The detector's runtime and models load on the main thread (~0.15 s, once per process): start
  // now, so that the file read and the statistics decode (libvips' threads) overlap with it.
  if (!opts.skipFaceCheck) preloadFaceModels();
  const read = await readSelfieFile(path);
  if ('facts' in read) return { report: selfieReport(path, read.facts, evaluateSelfie(read.facts, opts)) };
  const facts = await inspectSelfie(read.buffer, { path, faces: !opts.skipFaceCheck });
  const report = selfieReport(path, facts, evaluateSelfie(facts, opts));
  if (!report.ok) return { report };
  const prepared = await prepareInspectedSelfie(read.buffer, facts, opts.kind);
  return { report, jpeg: prepared.jpeg, prepared };
}
