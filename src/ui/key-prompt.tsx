import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput } from 'ink';
import type { Key } from 'ink';
import { editKeysFromInput } from './guided-form.js';

export interface HiddenInputProps {
  label: string;
  onSubmit: (value: string | undefined) => void;
}

/**
 * Reads a secret without echoing it: not even its length is shown until Enter. The value lives in a
 * ref that the one, stable key handler updates synchronously, so keys that arrive faster than ink
 * re-renders (a paste, a password manager, Enter right behind the last key) are all kept.
 */
export function HiddenInput({ label, onSubmit }: HiddenInputProps) {
  const value = useRef('');
  const done = useRef(false);
  const [shown, setShown] = useState<'empty' | 'typing' | 'received' | 'cancelled'>('empty');
  const { exit } = useApp();
  const latest = useRef({ onSubmit });
  latest.current = { onSubmit };
  // Leave after the outcome is drawn, so the terminal keeps a line that says what became of the key.
  useEffect(() => {
    if (shown === 'received' || shown === 'cancelled') exit();
  }, [shown, exit]);

  const handleInput = useCallback((input: string, key: Key) => {
    const finish = (answer: string | undefined) => {
      done.current = true;
      setShown(answer === undefined ? 'cancelled' : 'received');
      latest.current.onSubmit(answer);
    };
    for (const each of editKeysFromInput(input, key)) {
      if (done.current) return;
      if (each.kind === 'cancel') finish(undefined);
      else if (each.kind === 'enter') finish(value.current);
      else if (each.kind === 'backspace') value.current = [...value.current].slice(0, -1).join('');
      else if (each.kind === 'clear') value.current = '';
      else if (each.kind === 'text') value.current += each.text;
    }
    if (!done.current) setShown(value.current.length > 0 ? 'typing' : 'empty');
  }, []);
  useInput(handleInput);

  return (
    <Box>
      <Text>
        {label}{' '}
        <Text color="gray">
          {shown === 'received'
            ? '(received)'
            : shown === 'cancelled'
              ? '(cancelled)'
              : shown === 'typing'
                ? '(typing, hidden)'
                : '(hidden, Enter when done)'}
        </Text>
      </Text>
    </Box>
  );
}

/** Ask for a secret on the terminal (stderr), without echo. Undefined when cancelled. */
export async function promptHidden(
  label: string,
  streams: { stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream },
): Promise<string | undefined> {
  let result: string | undefined;
  const instance = render(<HiddenInput label={label} onSubmit={(value) => (result = value)} />, {
    stdin: streams.stdin,
    stdout: streams.stderr,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  await instance.waitUntilExit();
  return result;
}
