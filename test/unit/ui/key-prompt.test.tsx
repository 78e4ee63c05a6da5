import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { HiddenInput } from '../../../src/ui/key-prompt.js';
import { waitFor } from '../../helpers/wait-for.js';

const ENTER = '\r';
const BACKSPACE = '\u007F';
const ESC = '\u001B';
const SECRET = 'sk-7f3a9c1e5b2d4086';

async function mount() {
  const answers: (string | undefined)[] = [];
  const view = render(<HiddenInput label="API key:" onSubmit={(value) => answers.push(value)} />);
  await waitFor(
    () => (view.lastFrame() ?? '').includes('API key:') && view.stdin.listenerCount('readable') > 0,
    () => 'the prompt to listen to stdin',
  );
  const answer = async () => {
    await waitFor(
      () => answers.length > 0,
      () => `an answer; last frame: ${view.lastFrame() ?? ''}`,
    );
    expect(answers).toHaveLength(1);
    // Not even a part of the key is ever drawn.
    for (const frame of view.frames) expect(frame).not.toContain(SECRET.slice(0, 4));
    return answers[0];
  };
  return { ...view, answer };
}

// The final line is looked for in every frame drawn, not only the last: with CI set, ink draws the
// last frame once more on exit and ink-testing-library then reports an empty last frame.
describe('HiddenInput (API key prompt)', () => {
  it('keeps every key typed fast, with Enter right behind the last one', async () => {
    const prompt = await mount();
    for (const char of [...`${SECRET}x`, BACKSPACE, ENTER]) prompt.stdin.write(char);
    expect(await prompt.answer()).toBe(SECRET);
    await waitFor(
      () => prompt.frames.some((frame) => frame.includes('(received)')),
      () => `"(received)"; frames: ${JSON.stringify(prompt.frames)}`,
    );
  });

  it('takes a pasted key that ends in a newline as Enter, and Backspaces inside a chunk', async () => {
    const pasted = await mount();
    pasted.stdin.write(`${SECRET}\n`);
    expect(await pasted.answer()).toBe(SECRET);

    const mixed = await mount();
    mixed.stdin.write(`${SECRET}abc${BACKSPACE}${BACKSPACE}${BACKSPACE}`);
    mixed.stdin.write(ENTER);
    expect(await mixed.answer()).toBe(SECRET);
  });

  it('Esc cancels without a value', async () => {
    const prompt = await mount();
    prompt.stdin.write('sk-');
    prompt.stdin.write(ESC);
    expect(await prompt.answer()).toBeUndefined();
    await waitFor(
      () => prompt.frames.some((frame) => frame.includes('(cancelled)')),
      () => `"(cancelled)"; frames: ${JSON.stringify(prompt.frames)}`,
    );
  });
});
