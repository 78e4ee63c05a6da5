import { useCallback, useRef, useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { Key } from 'ink';
import type { Environment } from '../config/validate.js';

export interface ProfileChoice {
  name: string;
  environment: Environment;
  partnerId: string;
  /** The host its requests go to (`testapi.smileidentity.com`, `127.0.0.1:8080`). */
  host: string;
}

export interface SelfieCheckView {
  ok: boolean;
  width: number | null;
  height: number | null;
  bytes: number;
  format: string | null;
  findings: { code: string; severity: 'error' | 'warning'; message: string }[];
  /** Half-block picture (ANSI), may be ''. */
  preview: string;
}

export interface GuidedValues {
  profile: string | undefined;
  userId: string;
  selfie: string;
  /** No file: take the selfie with the camera (`--capture`). */
  capture: boolean;
  allowReEnroll: boolean;
}

export interface GuidedFormProps {
  profiles: ProfileChoice[];
  /** A profile chosen by flag or env: the profile step is skipped (also with one profile or none). */
  fixedProfile?: string | undefined;
  /** The current profile, highlighted first in the profile step. */
  preselect?: string | undefined;
  /** Environment when no profile applies (env-var credentials, --emulator). */
  fallbackEnvironment: string;
  initial: { userId?: string | undefined; selfie?: string | undefined; allowReEnroll?: boolean | undefined };
  checkSelfie: (path: string) => Promise<SelfieCheckView>;
  onDone: (values: GuidedValues | undefined) => void;
  /** Ctrl-C (before onDone(undefined)): an interruption, where Esc or "n" is an answer. */
  onInterrupt?: () => void;
}

type Step = 'profile' | 'userId' | 'selfie' | 'reEnroll' | 'confirm';

/** One key as a line editor understands it. */
export type EditKey =
  | { kind: 'text'; text: string }
  | {
      kind:
        'enter' | 'backspace' | 'left' | 'right' | 'home' | 'end' | 'up' | 'down' | 'clear' | 'cancel' | 'interrupt';
    };

/**
 * ink hands over keys that arrived together (a paste, a scanner, tmux send-keys, a fast typist on a
 * busy machine) as ONE input event, e.g. "abc\x7f\x7f" or "u-1\rpath\r". Split it into the keys it
 * holds, in order, so that each one is applied: Enter and Backspace inside a chunk count, other
 * control characters never reach a value.
 */
export function editKeysFromInput(input: string, key: Key): EditKey[] {
  if (key.ctrl && input === 'c') return [{ kind: 'interrupt' }];
  if (key.escape) return [{ kind: 'cancel' }];
  if (key.return) return [{ kind: 'enter' }];
  // ink reports both \x7f (what terminals send for Backspace) and \b this way.
  if (key.backspace || key.delete) return [{ kind: 'backspace' }];
  if (key.leftArrow) return [{ kind: 'left' }];
  if (key.rightArrow) return [{ kind: 'right' }];
  if (key.upArrow) return [{ kind: 'up' }];
  if (key.downArrow) return [{ kind: 'down' }];
  if (key.home) return [{ kind: 'home' }];
  if (key.end) return [{ kind: 'end' }];
  if (key.ctrl) {
    if (input === 'a') return [{ kind: 'home' }];
    if (input === 'e') return [{ kind: 'end' }];
    if (input === 'u') return [{ kind: 'clear' }];
    return [];
  }
  if (key.meta || key.tab) return [];
  const keys: EditKey[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') keys.push({ kind: 'text', text });
    text = '';
  };
  for (const char of input) {
    if (char === '\r' || char === '\n') {
      flush();
      keys.push({ kind: 'enter' });
    } else if (char === '\u007F' || char === '\b') {
      flush();
      keys.push({ kind: 'backspace' });
      // eslint-disable-next-line no-control-regex
    } else if (!/[\u0000-\u001F\u0080-\u009F]/.test(char)) text += char;
  }
  flush();
  return keys;
}

/** A one-line value and its cursor (in characters, not UTF-16 units). */
export interface LineState {
  value: string;
  cursor: number;
}

/** Apply one editing key to a line; keys that do not edit it leave it as it is. */
export function editLine(line: LineState, key: EditKey): LineState {
  const chars = [...line.value];
  const cursor = Math.min(Math.max(line.cursor, 0), chars.length);
  switch (key.kind) {
    case 'text': {
      const inserted = [...key.text];
      return {
        value: [...chars.slice(0, cursor), ...inserted, ...chars.slice(cursor)].join(''),
        cursor: cursor + inserted.length,
      };
    }
    case 'backspace':
      return cursor === 0
        ? line
        : { value: [...chars.slice(0, cursor - 1), ...chars.slice(cursor)].join(''), cursor: cursor - 1 };
    case 'left':
      return { value: line.value, cursor: Math.max(0, cursor - 1) };
    case 'right':
      return { value: line.value, cursor: Math.min(chars.length, cursor + 1) };
    case 'home':
      return { value: line.value, cursor: 0 };
    case 'end':
      return { value: line.value, cursor: chars.length };
    case 'clear':
      return { value: '', cursor: 0 };
    default:
      return line;
  }
}

interface FormState {
  step: Step;
  profileIndex: number;
  userId: LineState;
  selfie: LineState;
  check: SelfieCheckView | undefined;
  checking: boolean;
  /** Enter on an empty selfie line: the selfie is taken with the camera after the form. */
  capture: boolean;
  allowReEnroll: boolean;
  problem: string;
  finished: boolean;
}

const atEnd = (value: string): LineState => ({ value, cursor: [...value].length });

/**
 * The ops-staff form of `smile register`: profile (with its environment), user id, selfie path
 * (checked as soon as it is given, with a picture of the face), re-enroll choice, confirmation.
 *
 * Every key is applied to the latest state, never to the one last rendered: keys often arrive
 * faster than ink re-renders (and re-subscribes its input handlers), so the state lives in a ref
 * that the one, stable key handler updates synchronously; React state only mirrors it for drawing.
 */
export function GuidedForm(props: GuidedFormProps) {
  const { profiles, fixedProfile, preselect, fallbackEnvironment, initial } = props;
  const { exit } = useApp();
  const latest = useRef({ props, exit });
  latest.current = { props, exit };

  const state = useRef<FormState | undefined>(undefined);
  if (state.current === undefined) {
    const needsProfileStep = profiles.length > 1 && fixedProfile === undefined;
    state.current = {
      step: needsProfileStep ? 'profile' : !initial.userId ? 'userId' : !initial.selfie ? 'selfie' : 'reEnroll',
      profileIndex: Math.max(
        0,
        profiles.findIndex((profile) => profile.name === (fixedProfile ?? preselect)),
      ),
      userId: atEnd(initial.userId ?? ''),
      selfie: atEnd(initial.selfie ?? ''),
      check: undefined,
      checking: false,
      capture: false,
      allowReEnroll: initial.allowReEnroll === true,
      problem: '',
      finished: false,
    };
  }
  const [view, setView] = useState<FormState>(state.current);

  const handleInput = useCallback((input: string, key: Key) => {
    const { props: current, exit: exitApp } = latest.current;
    const read = (): FormState => state.current as FormState;
    const update = (changes: Partial<FormState>) => {
      state.current = { ...read(), ...changes };
    };
    const finish = (values: GuidedValues | undefined) => {
      update({ finished: true });
      current.onDone(values);
      exitApp();
    };
    const profileOf = (form: FormState) =>
      current.profiles.length > 0 ? current.profiles[form.profileIndex] : undefined;
    const stepAfterProfile = (): Step =>
      !current.initial.userId ? 'userId' : !current.initial.selfie ? 'selfie' : 'reEnroll';

    const submitSelfie = (path: string) => {
      update({ problem: '', checking: true, check: undefined });
      void current.checkSelfie(path).then(
        (result) => {
          if (read().finished) return;
          update({ checking: false, check: result });
          if (result.ok) update({ selfie: atEnd(path), step: 'reEnroll' });
          else update({ problem: 'This file cannot be sent: fix it or give another path.' });
          setView(read());
        },
        (error: unknown) => {
          if (read().finished) return;
          update({ checking: false, problem: error instanceof Error ? error.message : String(error) });
          setView(read());
        },
      );
    };

    const keys = editKeysFromInput(input, key);
    // Several keys in one event are a paste (or a scanner): they may fill text fields, but never
    // choose a profile or answer a yes/no question: those take a key of their own.
    const pasted = keys.length > 1 || keys.some((each) => each.kind === 'text' && [...each.text].length > 1);
    for (const each of keys) {
      const form = read();
      if (form.finished) break;
      if (each.kind === 'cancel' || each.kind === 'interrupt') {
        if (each.kind === 'interrupt') current.onInterrupt?.();
        finish(undefined);
        break;
      }
      // While the selfie is being checked the form shows so and takes no keys but Esc.
      if (form.checking) break;
      if (form.step === 'profile') {
        if (pasted) break;
        const count = current.profiles.length;
        if (each.kind === 'up') update({ profileIndex: (form.profileIndex + count - 1) % count });
        if (each.kind === 'down') update({ profileIndex: (form.profileIndex + 1) % count });
        if (each.kind === 'enter') update({ step: stepAfterProfile() });
      } else if (form.step === 'userId') {
        if (each.kind !== 'enter') update({ userId: editLine(form.userId, each) });
        else {
          const userId = form.userId.value.trim();
          if (userId === '') update({ problem: 'A user id is needed.' });
          else update({ problem: '', userId: atEnd(userId), step: current.initial.selfie ? 'reEnroll' : 'selfie' });
        }
      } else if (form.step === 'selfie') {
        if (each.kind !== 'enter') update({ selfie: editLine(form.selfie, each) });
        else {
          const path = form.selfie.value.trim();
          // No file: the selfie is taken with the camera, in the browser, once the form is done.
          if (path === '') update({ problem: '', capture: true, check: undefined, step: 'reEnroll' });
          else submitSelfie(path);
        }
      } else if (form.step === 'reEnroll') {
        if (pasted) break;
        const answer = each.kind === 'text' ? each.text.toLowerCase() : each.kind;
        if (answer === 'y') update({ allowReEnroll: true });
        if (answer === 'n') update({ allowReEnroll: false });
        if (answer === 'y' || answer === 'n' || answer === 'enter') update({ step: 'confirm' });
      } else {
        if (pasted) break;
        const answer = each.kind === 'text' ? each.text.toLowerCase() : each.kind;
        const production = (profileOf(form)?.environment ?? current.fallbackEnvironment) === 'production';
        if ((answer === 'enter' && !production) || answer === 'y')
          finish({
            profile: profileOf(form)?.name,
            userId: form.userId.value,
            selfie: form.capture ? '' : form.selfie.value,
            capture: form.capture,
            allowReEnroll: form.allowReEnroll,
          });
        else if (answer === 'n') finish(undefined);
      }
    }
    setView(read());
  }, []);
  useInput(handleInput);

  const { step, profileIndex, userId, selfie, check, checking, allowReEnroll, problem } = view;
  const profile = profiles.length > 0 ? profiles[profileIndex] : undefined;
  const environment = profile?.environment ?? fallbackEnvironment;
  const production = environment === 'production';

  return (
    <Box flexDirection="column">
      <Text bold>
        Register a person with Smile ID{' '}
        <Text color={production ? 'magenta' : 'cyan'}>· {production ? 'PRODUCTION' : environment}</Text>
        {profile ? (
          <Text color="gray">
            {' '}
            · profile {profile.name} · partner {profile.partnerId}
          </Text>
        ) : null}
      </Text>
      {step === 'profile' ? (
        <Box flexDirection="column">
          <Text>Profile (↑/↓, Enter):</Text>
          {profiles.map((item, index) => (
            <Text key={item.name} color={index === profileIndex ? 'cyan' : undefined}>
              {index === profileIndex ? '❯ ' : '  '}
              {item.name}{' '}
              <Text color={item.environment === 'production' ? 'magenta' : 'gray'}>
                ({item.environment}, partner {item.partnerId}, {item.host})
              </Text>
            </Text>
          ))}
        </Box>
      ) : null}
      {step !== 'profile' ? (
        <Text>
          <Text color="gray">User id: </Text>
          {step === 'userId' ? (
            <LineInput line={userId} placeholder="e.g. customer-1042" />
          ) : (
            <Text>{userId.value}</Text>
          )}
        </Text>
      ) : null}
      {step !== 'profile' && step !== 'userId' ? (
        <Text>
          <Text color="gray">Selfie: </Text>
          {step === 'selfie' && !checking ? (
            <LineInput line={selfie} placeholder="path to a JPEG or PNG, or Enter to take one with the camera" />
          ) : (
            <Text>{view.capture ? 'taken with the camera, in the browser, after this form' : selfie.value}</Text>
          )}
        </Text>
      ) : null}
      {checking ? <Text color="gray">Checking the selfie…</Text> : null}
      {check ? <SelfieSummary check={check} /> : null}
      {step === 'reEnroll' ? <Text>Replace the selfie if this user is already registered? (y/N)</Text> : null}
      {step === 'confirm' ? (
        <Box flexDirection="column">
          <Text>
            <Text color="gray">Re-enroll: </Text>
            {allowReEnroll ? 'yes (allow_new_enroll)' : 'no'}
          </Text>
          <Text bold color={production ? 'magenta' : undefined}>
            {production
              ? `Send to PRODUCTION (partner ${profile?.partnerId ?? ''})? (y/N)`
              : 'Submit? (Enter/y to send, n or Esc to cancel)'}
          </Text>
        </Box>
      ) : null}
      {problem ? <Text color="red">{problem}</Text> : null}
    </Box>
  );
}

/** A line being edited, with its cursor drawn as an inverse cell; the placeholder when empty. */
function LineInput({ line, placeholder }: { line: LineState; placeholder: string }) {
  const chars = [...line.value];
  if (chars.length === 0) {
    return (
      <Text>
        <Text inverse>{placeholder.slice(0, 1) || ' '}</Text>
        <Text color="gray">{placeholder.slice(1)}</Text>
      </Text>
    );
  }
  const cursor = Math.min(Math.max(line.cursor, 0), chars.length);
  return (
    <Text>
      {chars.slice(0, cursor).join('')}
      <Text inverse>{chars[cursor] ?? ' '}</Text>
      {chars.slice(cursor + 1).join('')}
    </Text>
  );
}

function SelfieSummary({ check }: { check: SelfieCheckView }) {
  return (
    <Box flexDirection="row" gap={2}>
      {check.preview ? <Text>{check.preview}</Text> : null}
      <Box flexDirection="column">
        <Text color={check.ok ? 'green' : 'red'}>
          {check.ok ? '✓' : '✗'} {check.format ?? 'unknown format'}
          {check.width && check.height ? ` ${check.width}×${check.height}` : ''} · {Math.round(check.bytes / 1024)} KB
        </Text>
        {check.findings.map((finding) => (
          <Text key={finding.code} color={finding.severity === 'error' ? 'red' : 'yellow'}>
            {finding.severity === 'error' ? '✗' : '!'} {finding.message}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
