import { describe, expect, it } from 'vitest';
import { renderResultText } from '../../../src/output/result-text.js';
import type { ResultCardFields } from '../../../src/register/document.js';
import { renderResultCard } from '../../../src/ui/result-card.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001B\[[0-9;]*m/g, '');

const approved: ResultCardFields = {
  outcome: 'approved',
  user_id: 'u-1',
  job_id: 'job-1',
  smile_job_id: '0000000009',
  result_code: null,
  result_text: null,
  actions: {},
};

describe('the result card and text name the liveness frames sent', () => {
  it('shows them when the job carried some, in both renderings', () => {
    const document = { ...approved, liveness_frames: 8 };
    expect(renderResultText(document, { color: false })).toContain('liveness  8 frames sent with the selfie');
    expect(plain(renderResultCard({ document, environmentLabel: 'emulator' }, 80))).toContain(
      '8 frames sent with the selfie',
    );
  });

  it('says nothing of them when there were none', () => {
    expect(renderResultText({ ...approved, liveness_frames: 0 }, { color: false })).not.toContain('liveness');
    expect(plain(renderResultCard({ document: approved, environmentLabel: 'emulator' }, 80))).not.toContain('liveness');
  });
});
