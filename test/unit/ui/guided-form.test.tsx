import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { GuidedForm, editKeysFromInput, editLine } from '../../../src/ui/guided-form.js';
import type { GuidedValues, ProfileChoice } from '../../../src/ui/guided-form.js';
import { checkSelfieForForm } from '../../../src/ui/guided-register.js';
import { renderResultCard } from '../../../src/ui/result-card.js';
import { waitFor } from '../../helpers/wait-for.js';

const ENTER = '\r';
const BACKSPACE = '\u007F';
const DOWN = '\u001B[B';
const LEFT = '\u001B[D';
const ESC = '\u001B';
// eslint-disable-next-line no-control-regex
const plain = (text: string | undefined) => (text ?? '').replace(/\u001B\[[0-9;]*m/g, '');

interface Keyboard {
  write(data: string): void;
  listenerCount(event: string): number;
}

/**
 * Types the way a fast typist (or tmux send-keys) does: one write per key, back to back, with no
 * render in between. Every key must land on the latest value, not on the one last rendered.
 */
function typeFast(stdin: Keyboard, keys: string | string[]) {
  for (const key of typeof keys === 'string' ? [...keys] : keys) stdin.write(key);
}

/** Waits (polling, never a fixed sleep) until the latest frame shows `pattern`. */
async function until(frame: () => string | undefined, pattern: RegExp) {
  await waitFor(
    () => pattern.test(plain(frame())),
    () => `${pattern}; last frame:\n${plain(frame())}`,
  );
}

const profiles: ProfileChoice[] = [
  { name: 'sandbox', environment: 'sandbox', partnerId: '085', host: 'testapi.smileidentity.com' },
  { name: 'prod', environment: 'production', partnerId: '085', host: 'api.smileidentity.com' },
];

async function mount(props: Partial<Parameters<typeof GuidedForm>[0]> = {}) {
  const calls: (GuidedValues | undefined)[] = [];
  const view = render(
    <GuidedForm
      profiles={profiles}
      fallbackEnvironment="sandbox"
      initial={{}}
      checkSelfie={(path) => checkSelfieForForm(path, false)}
      onDone={(values) => calls.push(values)}
      {...props}
    />,
  );
  // The form listens to the keyboard once it is mounted: wait for that, as a terminal buffers keys until then.
  await until(view.lastFrame, /Register a person/);
  await waitFor(
    () => view.stdin.listenerCount('readable') > 0,
    () => 'the form to listen to stdin',
  );
  const done = async () => {
    await waitFor(
      () => calls.length > 0,
      () => `the form to finish; last frame:\n${plain(view.lastFrame())}`,
    );
    expect(calls).toHaveLength(1);
    return calls[0];
  };
  return { ...view, calls, done };
}

describe('GuidedForm (keystrokes in, frames out)', () => {
  it('walks profile → user id → selfie (checked, with findings) → re-enroll → submit, typed fast', async () => {
    const form = await mount({ preselect: 'sandbox' });
    await until(form.lastFrame, /Profile/);
    expect(plain(form.lastFrame())).toContain('❯ sandbox');
    // Enter and the user id right behind it, as a typist who knows the form does.
    typeFast(form.stdin, [ENTER, ...'customer-1042', ENTER]);
    await until(form.lastFrame, /Selfie/);
    expect(plain(form.lastFrame())).toContain('User id: customer-1042');
    typeFast(form.stdin, [...'fixtures/bad/text-renamed.jpg', ENTER]);
    await until(form.lastFrame, /cannot be sent/);
    expect(plain(form.lastFrame())).toMatch(/✗/);
    // Replace the path: 29 Backspaces in a row (the tmux report), then the good path, no pause.
    typeFast(
      form.stdin,
      Array.from({ length: 'fixtures/bad/text-renamed.jpg'.length }, () => BACKSPACE),
    );
    typeFast(form.stdin, [...'fixtures/selfies/demo.jpg', ENTER]);
    await until(form.lastFrame, /already registered\? \(y\/N\)/);
    expect(plain(form.lastFrame())).toContain('Selfie: fixtures/selfies/demo.jpg');
    expect(plain(form.lastFrame())).toMatch(/✓ jpeg 640×800/);
    typeFast(form.stdin, 'y');
    await until(form.lastFrame, /Submit\?/);
    expect(plain(form.lastFrame())).toContain('Re-enroll: yes');
    typeFast(form.stdin, ENTER);
    expect(await form.done()).toEqual({
      profile: 'sandbox',
      userId: 'customer-1042',
      selfie: 'fixtures/selfies/demo.jpg',
      capture: false,
      allowReEnroll: true,
    });
  });

  it('refuses a photo without a face (the real detector), and lets it through as a warning with --skip-face-check', async () => {
    const form = await mount({ initial: { userId: 'u-7' }, fixedProfile: 'sandbox' });
    await until(form.lastFrame, /Selfie/);
    typeFast(form.stdin, [...'fixtures/faces/cat.jpg', ENTER]);
    await until(form.lastFrame, /cannot be sent/);
    expect(plain(form.lastFrame())).toContain('No human face was found');
    expect(plain(form.lastFrame())).not.toMatch(/already registered/);

    const skipping = await mount({
      initial: { userId: 'u-7' },
      fixedProfile: 'sandbox',
      checkSelfie: (path) => checkSelfieForForm(path, false, true),
    });
    await until(skipping.lastFrame, /Selfie/);
    typeFast(skipping.stdin, [...'fixtures/faces/cat.jpg', ENTER]);
    await until(skipping.lastFrame, /already registered\? \(y\/N\)/);
    expect(plain(skipping.lastFrame())).toContain('The face check was skipped');
  });

  it('applies every fast key to the latest value: typing, Backspace, arrows, then Enter at once', async () => {
    const form = await mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    // "customer-1024" typed, 2 Backspaces, "42", cursor 5 left, insert "X", Enter — all back to back.
    typeFast(form.stdin, [...'customer-1024', BACKSPACE, BACKSPACE, ...'42', LEFT, LEFT, LEFT, LEFT, LEFT, 'X', ENTER]);
    await until(form.lastFrame, /Selfie/);
    expect(plain(form.lastFrame())).toContain('User id: customerX-1042');
  });

  it('takes a paste as one chunk, and a chunk that mixes text and Backspaces', async () => {
    const form = await mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    form.stdin.write('customer-10xyz');
    form.stdin.write(`${BACKSPACE}${BACKSPACE}${BACKSPACE}42`);
    form.stdin.write(`q${BACKSPACE}`);
    typeFast(form.stdin, ENTER);
    await until(form.lastFrame, /Selfie/);
    expect(plain(form.lastFrame())).toContain('User id: customer-1042');
    // A pasted path arrives in one data event; the last characters must not be lost or reordered.
    form.stdin.write('fixtures/selfies/demo.jpg');
    typeFast(form.stdin, ENTER);
    await until(form.lastFrame, /already registered/);
    expect(plain(form.lastFrame())).toContain('Selfie: fixtures/selfies/demo.jpg');
  });

  it('asks for explicit confirmation in production: Enter alone does not send', async () => {
    const form = await mount({ initial: { userId: 'u-9', selfie: 'fixtures/selfies/demo.jpg' } });
    await until(form.lastFrame, /Profile/);
    // The picker shows where each profile's requests go.
    expect(plain(form.lastFrame())).toContain('sandbox (sandbox, partner 085, testapi.smileidentity.com)');
    expect(plain(form.lastFrame())).toContain('prod (production, partner 085, api.smileidentity.com)');
    typeFast(form.stdin, [DOWN, ENTER]);
    await until(form.lastFrame, /already registered/);
    expect(plain(form.lastFrame())).toContain('PRODUCTION');
    expect(plain(form.lastFrame())).toContain('profile prod');
    typeFast(form.stdin, 'n');
    await until(form.lastFrame, /Send to PRODUCTION \(partner 085\)\? \(y\/N\)/);
    // Had Enter sent, the first (and only) answer would be the values, not the cancel.
    typeFast(form.stdin, [ENTER, ESC]);
    expect(await form.done()).toBeUndefined();

    const again = await mount({ initial: { userId: 'u-9', selfie: 'fixtures/selfies/demo.jpg' } });
    typeFast(again.stdin, [DOWN, ENTER, 'n', 'y']);
    expect(await again.done()).toEqual({
      profile: 'prod',
      userId: 'u-9',
      selfie: 'fixtures/selfies/demo.jpg',
      capture: false,
      allowReEnroll: false,
    });
  });

  it('offers the camera when no file is given: Enter on an empty selfie line', async () => {
    const form = await mount({ fixedProfile: 'sandbox', initial: { userId: 'u-5' } });
    await until(form.lastFrame, /Enter to take one with the camera/);
    typeFast(form.stdin, ENTER);
    await until(form.lastFrame, /already registered/);
    expect(plain(form.lastFrame())).toContain('Selfie: taken with the camera, in the browser, after this form');
    typeFast(form.stdin, [ENTER, ENTER]);
    expect(await form.done()).toEqual({
      profile: 'sandbox',
      userId: 'u-5',
      selfie: '',
      capture: true,
      allowReEnroll: false,
    });
  });

  it('never lets a pasted chunk answer a yes/no question it led to', async () => {
    const form = await mount({ fixedProfile: 'prod', initial: { selfie: 'fixtures/selfies/demo.jpg' } });
    await until(form.lastFrame, /User id/);
    form.stdin.write('u-7\ryy');
    await until(form.lastFrame, /already registered\? \(y\/N\)/);
    expect(plain(form.lastFrame())).toContain('User id: u-7');
    // Each question takes a key of its own: the two pasted "y" went nowhere.
    typeFast(form.stdin, 'y');
    await until(form.lastFrame, /Send to PRODUCTION/);
    expect(form.calls).toEqual([]);
    typeFast(form.stdin, 'y');
    expect(await form.done()).toEqual({
      profile: 'prod',
      userId: 'u-7',
      selfie: 'fixtures/selfies/demo.jpg',
      capture: false,
      allowReEnroll: true,
    });
  });

  it('skips the profile step when a profile is fixed, and Esc cancels without a value', async () => {
    const form = await mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    expect(plain(form.lastFrame())).not.toContain('Profile (');
    typeFast(form.stdin, ESC);
    expect(await form.done()).toBeUndefined();
  });

  it('takes pasted or scanned text that ends in a newline as Enter, also several fields in one chunk', async () => {
    const form = await mount({ fixedProfile: 'sandbox' });
    await until(form.lastFrame, /User id/);
    form.stdin.write('scan-0042\r');
    await until(form.lastFrame, /Selfie/);
    expect(plain(form.lastFrame())).toContain('User id: scan-0042');
    form.stdin.write('fixtures/selfies/demo.jpg\n');
    await until(form.lastFrame, /already registered/);

    const scanned = await mount({ fixedProfile: 'sandbox' });
    scanned.stdin.write('scan-0043\rfixtures/selfies/demo.jpg\r');
    await until(scanned.lastFrame, /already registered/);
    expect(plain(scanned.lastFrame())).toContain('User id: scan-0043');
    expect(plain(scanned.lastFrame())).toContain('Selfie: fixtures/selfies/demo.jpg');
  });

  it('refuses an empty user id', async () => {
    const form = await mount({ profiles: [] });
    await until(form.lastFrame, /User id/);
    typeFast(form.stdin, ENTER);
    await until(form.lastFrame, /A user id is needed/);
  });
});

describe('editKeysFromInput / editLine (one ink input event → keys → line)', () => {
  const noKey = {
    upArrow: false,
    downArrow: false,
    leftArrow: false,
    rightArrow: false,
    pageDown: false,
    pageUp: false,
    home: false,
    end: false,
    return: false,
    escape: false,
    ctrl: false,
    shift: false,
    tab: false,
    backspace: false,
    delete: false,
    meta: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
  };
  const apply = (input: string, start = { value: '', cursor: 0 }) =>
    editKeysFromInput(input, noKey).reduce(editLine, start);

  it('splits a chunk into text, Backspace and Enter, in order, and drops other control characters', () => {
    expect(editKeysFromInput(`ab${BACKSPACE}\bc\r\u0007d\u009B`, noKey)).toEqual([
      { kind: 'text', text: 'ab' },
      { kind: 'backspace' },
      { kind: 'backspace' },
      { kind: 'text', text: 'c' },
      { kind: 'enter' },
      { kind: 'text', text: 'd' },
    ]);
    expect(editKeysFromInput(BACKSPACE.repeat(29), noKey)).toHaveLength(29);
  });

  it('edits by characters, not UTF-16 units, and never moves the cursor out of the line', () => {
    expect(apply(`ok👍${BACKSPACE}!`)).toEqual({ value: 'ok!', cursor: 3 });
    expect(apply(BACKSPACE.repeat(5), { value: 'abc', cursor: 3 })).toEqual({ value: '', cursor: 0 });
    expect(editLine({ value: 'abc', cursor: 0 }, { kind: 'left' })).toEqual({ value: 'abc', cursor: 0 });
    expect(editLine({ value: 'abc', cursor: 3 }, { kind: 'right' })).toEqual({ value: 'abc', cursor: 3 });
    expect(editLine({ value: 'ac', cursor: 1 }, { kind: 'text', text: 'b' })).toEqual({ value: 'abc', cursor: 2 });
  });
});

describe('result card', () => {
  it('shows outcome, ids, result and the actions that apply', () => {
    const card = plain(
      renderResultCard(
        {
          document: {
            outcome: 'rejected',
            user_id: 'u-1',
            job_id: 'job-1',
            smile_job_id: '0000000007',
            result_code: '0813',
            result_text: 'Enroll User FAIL',
            actions: { Register_Selfie: 'Rejected', Human_Review_Compare: 'Not Applicable' },
          },
          environmentLabel: 'sandbox',
        },
        80,
      ),
    );
    expect(card).toContain('✗ Rejected');
    expect(card).toContain('0813 Enroll User FAIL');
    expect(card).toContain('Register Selfie: Rejected');
    expect(card).not.toContain('Human Review Compare');
  });
});
