import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrderedSpool } from '../../../src/bulk/ordered-spool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function readBack(spool: OrderedSpool): string {
  return Buffer.concat([...spool.sorted()]).toString('utf8');
}

describe('OrderedSpool', () => {
  it('gives records back in key order, equal keys in arrival order', () => {
    const spool = new OrderedSpool(join(dir, 'report.csv'));
    for (const [key, text] of [
      [7, 'seven\n'],
      [2, 'two\n'],
      [5, 'five-a\n'],
      [3, 'three\n'],
      [5, 'five-b\n'],
    ] as const)
      spool.add(key, text);
    expect(readBack(spool)).toBe('two\nthree\nfive-a\nfive-b\nseven\n');
    spool.dispose();
  });

  it('keeps thousands of records, multi-byte text and records larger than its read block, without holding them in memory', () => {
    const spool = new OrderedSpool(join(dir, 'report.jsonl'));
    const keys = Array.from({ length: 5000 }, (_, index) => index + 2);
    // A shuffle that is the same every run: rows finish out of order, a few far out of it.
    const shuffled = [...keys].sort((a, b) => ((a * 7919) % 5003) - ((b * 7919) % 5003));
    const big = 'x'.repeat(1_500_000);
    for (const key of shuffled)
      spool.add(key, key === 2500 ? `${key} ${big}\n` : `${key} é✓ ${'y'.repeat(key % 300)}\n`);
    const lines = readBack(spool).split('\n').slice(0, -1);
    expect(lines.length).toBe(5000);
    expect(lines.map((line) => Number(line.split(' ')[0]))).toEqual(keys);
    expect(lines[2500 - 2]).toBe(`2500 ${big}`);
    expect(lines[0]).toBe(`2 é✓ ${'y'.repeat(2)}`);
    spool.dispose();
  });

  it('leaves no file behind: the spool is unlinked while open, and dispose closes it', async () => {
    const spool = new OrderedSpool(join(dir, 'report.csv'));
    spool.add(1, 'a\n');
    spool.flush();
    if (process.platform !== 'win32') expect(await readdir(dir)).toEqual([]);
    spool.dispose();
    spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('falls back to the temp directory when the report is somewhere it cannot live beside (a device)', () => {
    const spool = new OrderedSpool('/dev/null');
    spool.add(2, 'b\n');
    spool.add(1, 'a\n');
    expect(readBack(spool)).toBe('a\nb\n');
    spool.dispose();
  });
});
