import { useState } from 'react';
import { Box, Text, render, useApp, useInput } from 'ink';

export interface HiddenInputProps {
  label: string;
  onSubmit: (value: string | undefined) => void;
}

/** Reads a secret without echoing it: not even its length is shown until Enter. */
export function HiddenInput({ label, onSubmit }: HiddenInputProps) {
  const [value, setValue] = useState('');
  const [done, setDone] = useState(false);
  const { exit } = useApp();
  useInput((input, key) => {
    if (done) return;
    if (key.escape || (key.ctrl && input === 'c')) {
      setDone(true);
      onSubmit(undefined);
      exit();
      return;
    }
    if (key.return) {
      setDone(true);
      onSubmit(value);
      exit();
      return;
    }
    if (key.backspace || key.delete) {
      setValue((current) => current.slice(0, -1));
      return;
    }
    if (!key.ctrl && !key.meta && input) setValue((current) => current + input);
  });
  return (
    <Box>
      <Text>
        {label} <Text color="gray">{done ? '(received)' : value.length > 0 ? '(typing, hidden)' : '(hidden, Enter when done)'}</Text>
      </Text>
    </Box>
  );
}

/** Ask for a secret on the terminal (stderr), without echo. Undefined when cancelled. */
export async function promptHidden(label: string, streams: { stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream }): Promise<string | undefined> {
  let result: string | undefined;
  const instance = render(<HiddenInput label={label} onSubmit={(value) => (result = value)} />, { stdin: streams.stdin, stdout: streams.stderr, exitOnCtrlC: false, patchConsole: false });
  await instance.waitUntilExit();
  return result;
}
