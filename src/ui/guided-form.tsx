import { useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import TextInput from 'ink-text-input';

export interface ProfileChoice {
  name: string;
  environment: 'sandbox' | 'production';
  partnerId: string;
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
}

type Step = 'profile' | 'userId' | 'selfie' | 'reEnroll' | 'confirm';

/**
 * The ops-staff form of `smile register`: profile (with its environment), user id, selfie path
 * (checked as soon as it is given, with a picture of the face), re-enroll choice, confirmation.
 */
export function GuidedForm({ profiles, fixedProfile, preselect, fallbackEnvironment, initial, checkSelfie, onDone }: GuidedFormProps) {
  const { exit } = useApp();
  const startIndex = Math.max(0, profiles.findIndex((profile) => profile.name === (fixedProfile ?? preselect)));
  const needsProfileStep = profiles.length > 1 && fixedProfile === undefined;
  const firstStep: Step = needsProfileStep ? 'profile' : !initial.userId ? 'userId' : !initial.selfie ? 'selfie' : 'reEnroll';
  const [step, setStep] = useState<Step>(firstStep);
  const [profileIndex, setProfileIndex] = useState(startIndex);
  const [userId, setUserId] = useState(initial.userId ?? '');
  const [selfie, setSelfie] = useState(initial.selfie ?? '');
  const [check, setCheck] = useState<SelfieCheckView | undefined>(undefined);
  const [checking, setChecking] = useState(false);
  const [allowReEnroll, setAllowReEnroll] = useState(initial.allowReEnroll === true);
  const [problem, setProblem] = useState('');

  const profile = profiles.length > 0 ? profiles[profileIndex] : undefined;
  const environment = profile?.environment ?? fallbackEnvironment;
  const production = environment === 'production';

  const finish = (values: GuidedValues | undefined) => {
    onDone(values);
    exit();
  };

  useInput((input, key) => {
    if (key.escape || (key.ctrl && input === 'c')) {
      finish(undefined);
      return;
    }
    if (step === 'profile') {
      if (key.upArrow) setProfileIndex((index) => (index + profiles.length - 1) % profiles.length);
      if (key.downArrow) setProfileIndex((index) => (index + 1) % profiles.length);
      if (key.return) setStep(!initial.userId ? 'userId' : !initial.selfie ? 'selfie' : 'reEnroll');
    } else if (step === 'reEnroll') {
      if (input === 'y' || input === 'Y') setAllowReEnroll(true);
      if (input === 'n' || input === 'N') setAllowReEnroll(false);
      if (input === 'y' || input === 'Y' || input === 'n' || input === 'N' || key.return) setStep('confirm');
    } else if (step === 'confirm') {
      if ((key.return && !production) || input === 'y' || input === 'Y') finish({ profile: profile?.name, userId, selfie, allowReEnroll });
      if (input === 'n' || input === 'N') finish(undefined);
    }
  });

  // A paste or a barcode scanner delivers "text⏎" in one chunk: the input sees the newline as a
  // character, not as Enter. Treat it as Enter on the text before it.
  const pasted = (value: string, set: (value: string) => void, submit: (value: string) => void) => {
    const newline = value.search(/[\r\n]/);
    if (newline < 0) set(value);
    else {
      set(value.slice(0, newline));
      submit(value.slice(0, newline));
    }
  };

  const submitUserId = (value: string) => {
    const trimmed = value.trim();
    if (trimmed === '') {
      setProblem('A user id is needed.');
      return;
    }
    setProblem('');
    setUserId(trimmed);
    setStep(initial.selfie ? 'reEnroll' : 'selfie');
  };

  const submitSelfie = (value: string) => {
    const path = value.trim();
    if (path === '') {
      setProblem('A selfie file is needed.');
      return;
    }
    setProblem('');
    setChecking(true);
    setCheck(undefined);
    void checkSelfie(path).then(
      (result) => {
        setChecking(false);
        setCheck(result);
        if (result.ok) {
          setSelfie(path);
          setStep('reEnroll');
        } else setProblem('This file cannot be sent: fix it or give another path.');
      },
      (error: unknown) => {
        setChecking(false);
        setProblem(error instanceof Error ? error.message : String(error));
      },
    );
  };

  return (
    <Box flexDirection="column">
      <Text bold>
        Register a person with Smile ID <Text color={production ? 'magenta' : 'cyan'}>· {production ? 'PRODUCTION' : environment}</Text>
        {profile ? <Text color="gray"> · profile {profile.name} · partner {profile.partnerId}</Text> : null}
      </Text>
      {step === 'profile' ? (
        <Box flexDirection="column">
          <Text>Profile (↑/↓, Enter):</Text>
          {profiles.map((item, index) => (
            <Text key={item.name} color={index === profileIndex ? 'cyan' : undefined}>
              {index === profileIndex ? '❯ ' : '  '}
              {item.name} <Text color={item.environment === 'production' ? 'magenta' : 'gray'}>({item.environment}, partner {item.partnerId})</Text>
            </Text>
          ))}
        </Box>
      ) : null}
      {step !== 'profile' ? (
        <Text>
          <Text color="gray">User id: </Text>
          {step === 'userId' ? <TextInput value={userId} onChange={(value) => pasted(value, setUserId, submitUserId)} onSubmit={submitUserId} placeholder="e.g. customer-1042" /> : <Text>{userId}</Text>}
        </Text>
      ) : null}
      {step === 'selfie' || (step !== 'profile' && step !== 'userId') ? (
        <Text>
          <Text color="gray">Selfie: </Text>
          {step === 'selfie' ? <TextInput value={selfie} onChange={(value) => pasted(value, setSelfie, submitSelfie)} onSubmit={submitSelfie} placeholder="path to a JPEG or PNG" /> : <Text>{selfie}</Text>}
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
            {production ? `Send to PRODUCTION (partner ${profile?.partnerId ?? ''})? (y/N)` : 'Submit? (Enter/y to send, n or Esc to cancel)'}
          </Text>
        </Box>
      ) : null}
      {problem ? <Text color="red">{problem}</Text> : null}
    </Box>
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
