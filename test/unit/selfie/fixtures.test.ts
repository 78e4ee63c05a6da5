import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSelfie } from '../../../src/selfie/check.js';
import { BAD, BAD_FIXTURES, GOOD } from './helpers.js';

describe('fixtures/bad', () => {
  it('has an expectation for every file, and a file for every expectation', () => {
    expect(readdirSync(BAD).sort()).toEqual(Object.keys(BAD_FIXTURES).sort());
    expect(Object.keys(BAD_FIXTURES).length).toBeGreaterThanOrEqual(20);
  });

  it.each(Object.entries(BAD_FIXTURES))('%s → %j', async (name, expected) => {
    const report = await checkSelfie(`${BAD}${name}`, { kind: 'selfie' });
    expect(report.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(expected);
    expect(report.ok).toBe(!expected.some((e) => e.endsWith(':error')));
    for (const finding of report.findings) expect(finding.message.length).toBeGreaterThan(10);
  });
});

describe('fixtures/selfies', () => {
  it('demo.jpg (the quick-start image) has no findings at all', async () => {
    const report = await checkSelfie(`${GOOD}demo.jpg`, { kind: 'selfie' });
    expect(report).toMatchObject({ ok: true, format: 'jpeg', width: 640, height: 800, findings: [] });
  });

  it.each(readdirSync(GOOD).filter((f) => !f.startsWith('liveness')))(
    '%s has no findings as a selfie',
    async (name) => {
      const report = await checkSelfie(`${GOOD}${name}`, { kind: 'selfie' });
      expect(report.findings).toEqual([]);
    },
  );

  it.each(readdirSync(GOOD).filter((f) => f.startsWith('liveness')))(
    '%s has no findings as a liveness frame',
    async (name) => {
      const report = await checkSelfie(`${GOOD}${name}`, { kind: 'liveness' });
      expect(report.findings).toEqual([]);
      // The same frame as a selfie is small, but still not an error.
      const asSelfie = await checkSelfie(`${GOOD}${name}`, { kind: 'selfie' });
      expect(asSelfie.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['low_resolution:warning']);
    },
  );
});
