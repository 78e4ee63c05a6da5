import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { expectEachRegisteredOnce, userIds, workspace, writeCsv } from '../cli/bulk-helpers.js';
import type { Workspace } from '../cli/bulk-helpers.js';
import { childEnv } from '../helpers/child-env.js';

/**
 * The two `--shard` recipes of the README, run as written: the GNU parallel line is taken from
 * the README, the Indexed Job's script, env and mounts from docs/kubernetes/bulk-indexed-job.yaml,
 * so that the docs cannot drift from what is tested. `smile` is bin/smile.js on PATH.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'smile.js');
const MANIFEST = join(ROOT, 'docs', 'kubernetes', 'bulk-indexed-job.yaml');

/** Set in CI (.ci/run): without GNU parallel the recipe test fails instead of skipping. */
const PARALLEL_REQUIRED = process.env['SMILE_REQUIRE_PARALLEL'] === '1';
function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
const skipParallel = !onPath('parallel') && !PARALLEL_REQUIRED;
if (skipParallel)
  console.warn(
    'shard-recipes: GNU parallel recipe skipped: apt-get install parallel (SMILE_REQUIRE_PARALLEL=1 makes this a failure)',
  );

let emulator: RunningEmulator;
let ws: Workspace;
let shimDir: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 50 });
  ws = await workspace();
  shimDir = ws.path('bin');
  await mkdir(shimDir);
  await writeFile(join(shimDir, 'smile'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  await chmod(join(shimDir, 'smile'), 0o755);
});
afterAll(async () => {
  await emulator.close();
  await ws.cleanup();
});

/** The environment of a recipe: `smile` first on PATH, the emulator's account, nothing else of ours. */
function recipeEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = childEnv(ws.dir, { SMILE_CONFIG_DIR: ws.path('config'), SMILE_BASE_URL: emulator.baseUrl, ...extra });
  return { ...base, PATH: `${shimDir}${delimiter}${base['PATH'] ?? ''}` };
}

function run(
  shell: string,
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(shell, ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The one-line parallel recipe of the README (a ```sh block that is only that line). */
async function parallelRecipe(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const found = [...readme.matchAll(/```sh\n(parallel [^\n]+)\n```/g)].map((match) => match[1]!);
  expect(found, 'one GNU parallel recipe in the README').toHaveLength(1);
  return found[0]!;
}

describe.skipIf(skipParallel)('README recipe: GNU parallel runs N shards against one emulator', () => {
  it('registers every row exactly once, one journal and report per shard', { timeout: 120_000 }, async () => {
    const line = await parallelRecipe();
    const count = Number(/--shard \{\}\/(\d+)/.exec(line)?.[1]);
    expect(line).toMatch(new RegExp(`::: ${Array.from({ length: count }, (_, i) => i + 1).join(' ')}$`));
    const ids = userIds(16, 'par');
    await writeCsv(ws, 'users.csv', ids);
    const result = await run(
      'bash',
      line,
      ws.dir,
      recipeEnv({ SMILE_PARTNER_ID: emulator.partnerId, SMILE_API_KEY: emulator.apiKey }),
    );
    expect(result.code, result.stderr).toBe(0);
    expectEachRegisteredOnce(emulator, ids);
    for (let k = 1; k <= count; k++) {
      expect(existsSync(ws.path(`users.csv.shard-${k}of${count}.smile-journal.jsonl`))).toBe(true);
      expect(existsSync(ws.path(`report-${k}.csv`))).toBe(true);
    }
    const reported = await Promise.all(
      Array.from({ length: count }, (_, i) => readFile(ws.path(`report-${i + 1}.csv`), 'utf8')),
    );
    // One line per row of its shard (plus the header): the four reports cover the file once.
    expect(reported.reduce((sum, text) => sum + text.trim().split('\n').length - 1, 0)).toBe(ids.length);
  });
});

interface Manifest {
  kind: string;
  spec: {
    completionMode: string;
    completions: number;
    template: {
      spec: {
        containers: {
          workingDir: string;
          command: string[];
          args: string[];
          env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
          volumeMounts: { name: string; mountPath: string }[];
        }[];
      };
    };
  };
}

describe('docs/kubernetes/bulk-indexed-job.yaml: the Indexed Job recipe', () => {
  it(
    'each index runs the container script; together they register every row once; a restarted pod resumes',
    { timeout: 120_000 },
    async () => {
      const manifest = parse(await readFile(MANIFEST, 'utf8')) as Manifest;
      expect(manifest.kind).toBe('Job');
      expect(manifest.spec.completionMode).toBe('Indexed');
      const count = manifest.spec.completions;
      const [container] = manifest.spec.template.spec.containers;
      expect(container!.command).toEqual(['sh', '-c']);
      const script = container!.args[0]!;
      // Every mount is a temp directory; env values naming a mount path follow it.
      const mounts = new Map<string, string>();
      for (const mount of container!.volumeMounts) {
        const dir = ws.path(`k8s-${mount.name}`);
        await mkdir(dir, { recursive: true });
        mounts.set(mount.mountPath, dir);
      }
      const secrets: Record<string, string> = { SMILE_PARTNER_ID: emulator.partnerId, SMILE_API_KEY: emulator.apiKey };
      const env: NodeJS.ProcessEnv = {};
      for (const variable of container!.env) {
        if (variable.valueFrom) {
          expect(secrets[variable.name], `a secret for ${variable.name}`).toBeDefined();
          env[variable.name] = secrets[variable.name];
        } else env[variable.name] = mounts.get(variable.value!) ?? variable.value;
      }
      expect(env['SMILE_SHARD']).toBe(`auto/${count}`);
      const input = mounts.get(container!.workingDir)!;
      const ids = userIds(16, 'k8s');
      // The input volume: users.csv and the selfie it names.
      const csv = await writeCsv(ws, 'k8s-users.csv', ids);
      await writeFile(join(input, 'users.csv'), await readFile(csv));
      await mkdir(join(input, 'photos'), { recursive: true });
      await writeFile(join(input, 'photos', 'face.jpg'), await readFile(ws.path('photos/face.jpg')));

      const pod = (index: number | undefined) =>
        run(
          'sh',
          script,
          input,
          recipeEnv({ ...env, ...(index === undefined ? {} : { JOB_COMPLETION_INDEX: String(index) }) }),
        );
      const pods = await Promise.all(Array.from({ length: count }, (_, index) => pod(index)));
      for (const result of pods) expect(result.code, result.stderr).toBe(0);
      expectEachRegisteredOnce(emulator, ids);
      const journals = mounts.get('/journals') ?? [...mounts.values()].find((dir) => dir !== input)!;
      expect((await readdir(journals)).filter((name) => name.endsWith('.smile-journal.jsonl')).sort()).toEqual(
        Array.from({ length: count }, (_, index) => `shard-${index}.smile-journal.jsonl`),
      );

      // Pod 0 restarted after it finished: its journal is there, so it resumes and sends nothing again.
      const jobsBefore = emulator.state.jobs.size;
      const restarted = await pod(0);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(emulator.state.jobs.size).toBe(jobsBefore);
      expectEachRegisteredOnce(emulator, ids);

      // Outside an Indexed Job: exit 2 with the reason, nothing sent.
      const outside = await pod(undefined);
      expect(outside.code).toBe(2);
      expect(outside.stderr).toMatch(/SMILE_SHARD auto\/4 reads the shard from JOB_COMPLETION_INDEX, which is not set/);
      expect(emulator.state.jobs.size).toBe(jobsBefore);
    },
  );
});
