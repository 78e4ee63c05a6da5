import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { GuidedForm } from '../../../src/ui/guided-form.js';
import type { GuidedValues, ProfileChoice } from '../../../src/ui/guided-form.js';
import { checkSelfieForForm } from '../../../src/ui/guided-register.js';
import { renderResultCard } from '../../../src/ui/result-card.js';

const ENTER = '\r';
const DOWN = '\u001B[B';
const ESC = '\u001B';
const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
// eslint-disable-next-line no-control-regex
const plain = (text: string | undefined) => (text ?? '').replace(/\u001B\[[0-9;]*m/g, '');

async function type(stdin: { write(data: string): void }, text: string) {
  for (const char of text) {
    stdin.write(char);
    await tick();
  }
}

async function until(frame: () => string | undefined, pattern: RegExp, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!pattern.test(plain(frame()))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; last frame:\n${plain(frame())}`);
    await tick();
  }
  // Let the newly shown input mount its key handler before the next keystroke.
  await tick();
  await tick();
}

const profiles: ProfileChoice[] = [
  { name: 'sandbox', environment: 'sandbox', partnerId: '085' },
  { name: 'prod', environment: 'production', partnerId: '085' },
];

function mount(props: Partial<Parameters<typeof GuidedForm>[0]> = {}) {
  let done: GuidedValues | undefined | 'unset' = 'unset';
  const view = render(
    <GuidedForm
      profiles={profiles}
      fallbackEnvironment="sandbox"
      initial={{}}
      checkSelfie={(path) => checkSelfieForForm(path, false)}
      onDone={(values) => (done = values)}
      {...props}
    />,
  );
  return { ...view, result: () => done };
}

describe('GuidedForm (keystrokes in, frames out)', () => {
  it('walks profile → user id → selfie (checked, with findings) → re-enroll → submit', async () => {
    const form = mount({ preselect: 'sandbox' });
    await until(form.lastFrame, /Profile/);
    expect(plain(form.lastFrame())).toContain('❯ sandbox');
    form.stdin.write(ENTER);
    await until(form.lastFrame, /User id/);
    await type(form.stdin, 'customer-1042');
    form.stdin.write(ENTER);
    await until(form.lastFrame, /Selfie/);
    await type(form.stdin, 'fixtures/bad/text-renamed.jpg');
    form.stdin.write(ENTER);
    await until(form.lastFrame, /cannot be sent/);
    expect(plain(form.lastFrame())).toMatch(/✗/);
    // Replace the path with a good selfie.
    for (let i = 0; i < 'fixtures/bad/text-renamed.jpg'.length; i++) {
      form.stdin.write('\u007F');
      await tick();
    }
    await type(form.stdin, 'fixtures/selfies/demo.jpg');
    form.stdin.write(ENTER);
    await until(form.lastFrame, /already registered\? \(y\/N\)/);
    expect(plain(form.lastFrame())).toMatch(/✓ jpeg 640×800/);
    form.stdin.write('y');
    await until(form.lastFrame, /Submit\?/);
    expect(plain(form.lastFrame())).toContain('Re-enroll: yes');
    form.stdin.write(ENTER);
    await tick();
    expect(form.result()).toEqual({ profile: 'sandbox', userId: 'customer-1042', selfie: 'fixtures/selfies/demo.jpg', allowReEnroll: true });
  });

  it('asks for explicit confirmation in production: Enter alone does not send', async () => {
    const form = mount({ initial: { userId: 'u-9', selfie: 'fixtures/selfies/demo.jpg' } });
    await until(form.lastFrame, /Profile/);
    form.stdin.write(DOWN);
    await tick();
    expect(plain(form.lastFrame())).toContain('❯ prod');
    form.stdin.write(ENTER);
    await until(form.lastFrame, /already registered/);
    expect(plain(form.lastFrame())).toContain('PRODUCTION');
    form.stdin.write('n');
    await until(form.lastFrame, /Send to PRODUCTION \(partner 085\)\? \(y\/N\)/);
    form.stdin.write(ENTER);
    await tick();
    expect(form.result()).toBe('unset');
    form.stdin.write('y');
    await tick();
    expect(form.result()).toEqual({ profile: 'prod', userId: 'u-9', selfie: 'fixtures/selfies/demo.jpg', allowReEnroll: false });
  });

  it('skips the profile step when a profile is fixed, and Esc cancels without a value', async () => {
    const form = mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    expect(plain(form.lastFrame())).not.toContain('Profile (');
    form.stdin.write(ESC);
    await tick();
    expect(form.result()).toBeUndefined();
  });

  it('takes pasted or scanned text that ends in a newline as Enter', async () => {
    const form = mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    form.stdin.write('scan-0042\r');
    await until(form.lastFrame, /Selfie/);
    expect(plain(form.lastFrame())).toContain('User id: scan-0042');
    form.stdin.write('fixtures/selfies/demo.jpg\n');
    await until(form.lastFrame, /already registered/);
  });

  it('refuses an empty user id', async () => {
    const form = mount({ profiles: [] });
    await until(form.lastFrame, /User id/);
    form.stdin.write(ENTER);
    await until(form.lastFrame, /A user id is needed/);
  });
});

describe('result card', () => {
  it('shows outcome, ids, result and the actions that apply', () => {
    const card = plain(renderResultCard({ document: { outcome: 'rejected', user_id: 'u-1', job_id: 'job-1', smile_job_id: '0000000007', result_code: '0813', result_text: 'Enroll User FAIL', actions: { Register_Selfie: 'Rejected', Human_Review_Compare: 'Not Applicable' } }, environmentLabel: 'sandbox' }, 80));
    expect(card).toContain('✗ Rejected');
    expect(card).toContain('0813 Enroll User FAIL');
    expect(card).toContain('Register Selfie: Rejected');
    expect(card).not.toContain('Human Review Compare');
  });
});
