import { UsageError } from '../errors.js';
import type { Duration } from '../parse.js';
import type { Shard } from './shard.js';

/**
 * What `smile bulk` is asked to do, as its definition (src/commands/bulk.ts) hands it to
 * `runBulk`: every flag parsed and checked once, when commander reads it. A leaf (types aside), so
 * that the definition imports it without loading any of the bulk machinery.
 */

/** `--format`: how the input is read (without it: by extension, else by its first byte). */
export const INPUT_FORMATS = ['csv', 'jsonl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** `--if-enrolled`: what a row does when its user is already registered (2209). */
export const IF_ENROLLED_ACTIONS = ['fail', 'skip', 'replace'] as const;
export type IfEnrolled = (typeof IF_ENROLLED_ACTIONS)[number];

/** `--concurrency`: 1 to 256 registrations in flight (more only adds load: --rate goes faster politely). */
export function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError('--concurrency takes a whole number of at least 1.');
  if (value > 256)
    throw new UsageError(`--concurrency ${value} is more than 256.`, {
      hint: 'Use --rate to go faster politely; a few dozen workers saturate any account.',
    });
  return value;
}

/** `--rate`: requests per second for all workers together, above 0. */
export function checkRate(value: number): number {
  if (!(value > 0)) throw new UsageError('--rate takes a number of requests per second above 0.');
  return value;
}

/** `--max-attempts`: attempts per request, at least 1 (1: no retries at all). */
export function checkMaxAttempts(value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError('--max-attempts takes a whole number of at least 1.');
  return value;
}

/** The values of `smile bulk`, typed and checked (product.md "Bulk"). */
export interface BulkValues {
  /** The input as given: a path, or `-` for stdin. */
  file: string;
  format: InputFormat | undefined;
  concurrency: number;
  rate: number | undefined;
  maxAttempts: number;
  journal: string | undefined;
  resume: boolean;
  ifEnrolled: IfEnrolled;
  wait: boolean;
  /** How long to wait for each row's result. */
  timeout: Duration;
  report: string | undefined;
  rejects: string | undefined;
  dryRun: boolean;
  shard: Shard | undefined;
  /** --skip-face-check: rows are sent without looking for the face (a warning on every row). */
  skipFaceCheck: boolean;
  /** --html PATH: a self-contained HTML page of the run, written when it ends. */
  html: string | undefined;
  /** --html-thumbnails: small selfie thumbnails of the rows that need attention in that page. */
  htmlThumbnails: boolean;
}
