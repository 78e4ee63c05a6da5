// Reliability benchmark (prints figures; asserts nothing): does `smile` keep its promise that nothing
// is lost or sent twice, that an exit code tells the truth, and that a hostile server cannot make it
// believe or send what it should not? In one run, for this checkout and (BASELINE=DIR) another one:
//
//   - kill -9 trials: `smile bulk` SIGKILLed at random moments, resumed each time, then run to the end;
//     the emulator's own state counts users with no approved job (lost) and with two jobs (twice);
//   - concurrent resume trials: `smile bulk F & smile bulk F --resume` while the first is alive;
//   - hostile-server cases: a proxy in front of the emulator that lies in one way per case;
//   - peak RSS of `smile register` against a 400 MB job_status answer.
//
//   npm run build && node test/bench/reliability.mjs
//   BASELINE=../other-checkout node test/bench/reliability.mjs      (side by side; the other needs dist/ too)
//   env: KILL_TRIALS=5 KILL_ROWS=500 KILLS=5 RESUME_TRIALS=5 RESUME_ROWS=200 HUGE_MB=400
//
// The emulator and the proxy come from this checkout: they are the judge, the CLI under test is spawned
// from each checkout's bin/smile.js.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../dist/emulator/index.js';
import { signRequest } from '../../dist/smile/sign.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SELFIE = join(root, 'fixtures/selfies/demo.jpg');
const KILL_TRIALS = Number(process.env.KILL_TRIALS ?? 5);
const KILL_ROWS = Number(process.env.KILL_ROWS ?? 500);
const KILLS = Number(process.env.KILLS ?? 5);
const RESUME_TRIALS = Number(process.env.RESUME_TRIALS ?? 5);
const RESUME_ROWS = Number(process.env.RESUME_ROWS ?? 200);
const HUGE_MB = Number(process.env.HUGE_MB ?? 400);

const checkouts = [{ label: 'this checkout', dir: root }];
if (process.env.BASELINE) {
  const dir = resolve(process.env.BASELINE);
  if (!existsSync(join(dir, 'dist/cli.js')))
    throw new Error(`BASELINE ${dir} has no dist/cli.js: run npm ci there first.`);
  checkouts.push({ label: `baseline (${process.env.BASELINE})`, dir });
}

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'smile-rel-bench-'));
  mkdirSync(join(dir, 'photos'));
  mkdirSync(join(dir, 'config'));
  copyFileSync(SELFIE, join(dir, 'photos/face.jpg'));
  return dir;
}

function writeRows(dir, count, prefix) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  const file = join(dir, 'users.csv');
  writeFileSync(file, `user_id,selfie\n${ids.map((id) => `${id},photos/face.jpg`).join('\n')}\n`);
  return { file, ids };
}

function envFor(emulatorLike, dir, more = {}) {
  return {
    ...process.env,
    SMILE_PARTNER_ID: emulatorLike.partnerId,
    SMILE_API_KEY: emulatorLike.apiKey,
    SMILE_BASE_URL: emulatorLike.baseUrl,
    SMILE_CONFIG_DIR: join(dir, 'config'),
    HOME: dir,
    NO_COLOR: '1',
    CI: '1',
    ...more,
  };
}

/** Spawn a checkout's CLI; `timeRss` wraps it in /usr/bin/time for its peak RSS. */
function smile(checkout, args, env, { timeRss = false } = {}) {
  const command = timeRss ? '/usr/bin/time' : process.execPath;
  const argv = timeRss
    ? ['-f', 'MAXRSS_KB=%M', process.execPath, join(checkout.dir, 'bin/smile.js'), ...args]
    : [join(checkout.dir, 'bin/smile.js'), ...args];
  const child = spawn(command, argv, { cwd: checkout.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, rssKb: Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? NaN) }),
    ),
  );
  return { child, exit };
}

const count = (path, type) =>
  existsSync(path) ? (readFileSync(path, 'utf8').match(new RegExp(`"t":"${type}"`, 'g')) ?? []).length : 0;
const until = async (condition, everyMs = 5) => {
  while (!(await condition())) await new Promise((r) => setTimeout(r, everyMs));
};

/** Lost: no approved job at the emulator. Twice: more than one job for the user. */
function judge(emulator, ids) {
  const jobs = new Map();
  for (const job of emulator.state.jobs.values()) jobs.set(job.userId, [...(jobs.get(job.userId) ?? []), job]);
  let lost = 0;
  let twice = 0;
  for (const id of ids) {
    const mine = jobs.get(id) ?? [];
    if (mine.length > 1) twice++;
    if (!mine.some((job) => job.jobComplete && job.jobSuccess)) lost++;
  }
  return { lost, twice };
}

async function killTrials(checkout) {
  let kills = 0;
  let rows = 0;
  let lost = 0;
  let twice = 0;
  for (let trial = 0; trial < KILL_TRIALS; trial++) {
    const emulator = await startEmulator({ port: 0, processingMs: 150, faults: { latencyMs: 10 } });
    const dir = workspace();
    try {
      const { file, ids } = writeRows(dir, KILL_ROWS, `kill-${trial}-${Date.now()}`);
      const journal = `${file}.smile-journal.jsonl`;
      const env = envFor(emulator, dir);
      for (let k = 0; k < KILLS; k++) {
        const run = smile(checkout, ['bulk', file, '--concurrency', '8', ...(k > 0 ? ['--resume'] : [])], env);
        let ended = false;
        void run.exit.then(() => (ended = true));
        // A random point of the run: after some more records reach the journal.
        const target =
          count(journal, 'pin') + count(journal, 'final') + 5 + Math.floor(Math.random() * (KILL_ROWS / KILLS));
        await until(() => ended || count(journal, 'pin') + count(journal, 'final') >= target, 2);
        if (!ended) {
          run.child.kill('SIGKILL');
          kills++;
        }
        await run.exit;
      }
      const last = await smile(checkout, ['bulk', file, '--resume', '--concurrency', '8', '--json'], env).exit;
      if (last.code !== 0)
        console.error(
          `  kill trial ${trial}: final resume exited ${last.code}: ${last.stderr.trim().split('\n').slice(-2).join(' / ')}`,
        );
      await until(() => [...emulator.state.jobs.values()].every((job) => job.jobComplete || !job.zip), 20);
      const verdict = judge(emulator, ids);
      rows += ids.length;
      lost += verdict.lost;
      twice += verdict.twice;
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { kills, rows, lost, twice };
}

async function concurrentResumeTrials(checkout) {
  let twice = 0;
  let lost = 0;
  let refused = 0;
  const exits = [];
  for (let trial = 0; trial < RESUME_TRIALS; trial++) {
    const emulator = await startEmulator({ port: 0, processingMs: 300, faults: { latencyMs: 300 } });
    const dir = workspace();
    try {
      const { file, ids } = writeRows(dir, RESUME_ROWS, `conc-${trial}-${Date.now()}`);
      const journal = `${file}.smile-journal.jsonl`;
      const env = envFor(emulator, dir);
      const first = smile(checkout, ['bulk', file, '--concurrency', '8'], env);
      await until(() => count(journal, 'prepared') >= 8, 5);
      const second = await smile(checkout, ['bulk', file, '--resume', '--concurrency', '8'], env).exit;
      const firstExit = await first.exit;
      exits.push(`${firstExit.code}/${second.code}`);
      if (second.code !== 0 && /lock|another|running|in use/i.test(second.stderr)) refused++;
      // Whatever happened, finish the run once more so "lost" means lost, not just unfinished.
      await smile(checkout, ['bulk', file, '--resume', '--concurrency', '8'], env).exit;
      await until(() => [...emulator.state.jobs.values()].every((job) => job.jobComplete || !job.zip), 20);
      const verdict = judge(emulator, ids);
      twice += verdict.twice;
      lost += verdict.lost;
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { trials: RESUME_TRIALS, rows: RESUME_TRIALS * RESUME_ROWS, twice, lost, refused, exits: exits.join(' ') };
}

/**
 * A proxy in front of the emulator that lies in one way. `handle(req, body, forward)` answers the
 * request; `forward()` gets the emulator's answer as { status, json }.
 */
async function hostileProxy(emulator, handle) {
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const forward = async () => {
      const answer = await fetch(`${emulator.origin}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: req.method === 'GET' ? undefined : body,
      });
      const text = await answer.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: answer.status, json, text };
    };
    try {
      await handle(req, res, body, forward);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    origin: `http://127.0.0.1:${port}`,
    partnerId: emulator.partnerId,
    apiKey: emulator.apiKey,
    close: () => new Promise((r) => server.close(r)),
    server,
  };
}

const sendJson = (res, status, json) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(json));
};

/** Re-sign an answer with a chosen timestamp (a valid HMAC: only the age is wrong). */
const resign = (emulator, json, timestamp) => ({
  ...json,
  timestamp,
  signature: signRequest(emulator.apiKey, emulator.partnerId, timestamp),
});

function hostileCases(emulator) {
  const passJobStatus = (mutate) => async (req, res, _body, forward) => {
    const answer = await forward();
    if (req.url?.endsWith('/job_status') && answer.json) return sendJson(res, answer.status, mutate(answer.json));
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.text);
  };
  return [
    {
      name: 'job_status signed 2020-01-01 (valid HMAC, old)',
      expect: 3,
      handle: passJobStatus((json) => resign(emulator, json, '2020-01-01T00:00:00.000Z')),
    },
    {
      name: 'job_status with a bad signature',
      expect: 3,
      handle: passJobStatus((json) => ({ ...json, signature: Buffer.alloc(32, 7).toString('base64') })),
    },
    {
      name: 'ResultCode {"a":1} in a signed result',
      expect: 5,
      handle: passJobStatus((json) =>
        json.result && typeof json.result === 'object'
          ? resign(emulator, { ...json, result: { ...json.result, ResultCode: { a: 1 } } }, new Date().toISOString())
          : json,
      ),
    },
    {
      name: 'upload_url "data:,ok"',
      expect: 5,
      handle: async (req, res, _body, forward) => {
        const answer = await forward();
        if (req.url?.endsWith('/upload') && answer.json?.upload_url)
          return sendJson(res, answer.status, { ...answer.json, upload_url: 'data:,ok' });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.text);
      },
    },
    {
      name: '307 on /v1/upload to another host',
      redirect: true,
      expect: 5,
      handle: async (req, res, _body, forward, ctx) => {
        if (req.url?.endsWith('/upload')) {
          res.writeHead(307, { location: `${ctx.sink}/v1/upload` });
          return res.end();
        }
        const answer = await forward();
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.text);
      },
    },
    {
      name: `${HUGE_MB} MB job_status answer`,
      huge: true,
      expect: 5,
      handle: async (req, res, _body, forward) => {
        if (!req.url?.endsWith('/job_status')) {
          const answer = await forward();
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          return res.end(answer.text);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        const head = JSON.stringify(
          resign(emulator, { job_complete: true, job_success: true, code: '2302' }, new Date().toISOString()),
        ).slice(0, -1);
        res.write(`${head},"result":{"ResultText":"`);
        const chunk = Buffer.alloc(1 << 20, 'x');
        let sent = 0;
        const total = HUGE_MB;
        const pump = () => {
          while (sent < total) {
            sent++;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end('"}}');
        };
        res.on('close', () => (sent = total + 1));
        pump();
      },
    },
  ];
}

async function hostileRuns(checkout) {
  const rows = [];
  for (const hostile of hostileCases({ partnerId: '085', apiKey: 'x' })) {
    const emulator = await startEmulator({ port: 0, processingMs: 100 });
    const dir = workspace();
    // A second server: whatever reaches it after a redirect is recorded.
    let sinkBodies = 0;
    const sink = createServer((req, res) => {
      let size = 0;
      req.on('data', (chunk) => (size += chunk.length));
      req.on('end', () => {
        if (size > 0) sinkBodies++;
        sendJson(res, 200, { upload_url: `${emulator.origin}/nowhere`, smile_job_id: '0000000001' });
      });
    });
    await new Promise((r) => sink.listen(0, '127.0.0.1', r));
    const ctx = { sink: `http://127.0.0.1:${sink.address().port}` };
    const thisCase = hostileCases(emulator).find((c) => c.name === hostile.name);
    const proxy = await hostileProxy(emulator, (req, res, body, forward) =>
      thisCase.handle(req, res, body, forward, ctx),
    );
    try {
      const run = smile(
        checkout,
        [
          'register',
          '--user-id',
          `hostile-${Date.now()}`,
          '--selfie',
          join(dir, 'photos/face.jpg'),
          '--timeout',
          '30s',
          '--json',
        ],
        envFor(proxy, dir),
        { timeRss: true },
      );
      const exit = await run.exit;
      let doc;
      try {
        doc = JSON.parse(exit.stdout);
      } catch {
        doc = undefined;
      }
      const believed = doc?.ok === true || doc?.outcome === 'approved';
      // Refused = the exit code of that failure family (product.md), nothing believed, nothing signed sent elsewhere.
      const refused = exit.code === thisCase.expect && !believed && (!thisCase.redirect || sinkBodies === 0);
      const message = (
        doc?.error?.message ??
        exit.stderr.split('\n').find((l) => l.trim() && !l.startsWith('MAXRSS')) ??
        ''
      ).slice(0, 90);
      rows.push({
        name: hostile.name,
        code: exit.code,
        refused,
        rssMb: exit.rssKb / 1024,
        message: `${message}${thisCase.redirect ? ` [signed bodies at the redirect target: ${sinkBodies}]` : ''}`,
      });
    } finally {
      await proxy.close();
      await new Promise((r) => sink.close(r));
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Bulk with a lying job_status: the exit code must name the signature (3), not "Interrupted" (130).
  {
    const emulator = await startEmulator({ port: 0, processingMs: 100 });
    const dir = workspace();
    const bad = hostileCases(emulator).find((c) => c.name === 'job_status with a bad signature');
    const proxy = await hostileProxy(emulator, (req, res, body, forward) => bad.handle(req, res, body, forward, {}));
    try {
      const { file } = writeRows(dir, 20, `bulk-badsig-${Date.now()}`);
      const exit = await smile(checkout, ['bulk', file, '--concurrency', '4'], envFor(proxy, dir)).exit;
      rows.push({
        name: 'bulk: job_status with a bad signature',
        code: exit.code,
        refused: exit.code === 3,
        rssMb: NaN,
        message: (
          exit.stderr
            .trim()
            .split('\n')
            .filter((l) => /signature|Interrupted|✗/.test(l))[0] ?? ''
        ).slice(0, 90),
      });
    } finally {
      await proxy.close();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // A callback signed 30 days ago (a valid HMAC) posted to the listener: it must not be stored as verified.
  {
    const dir = workspace();
    const free = createServer();
    await new Promise((r) => free.listen(0, '127.0.0.1', r));
    const port = free.address().port;
    await new Promise((r) => free.close(r));
    const out = join(dir, 'callbacks.jsonl');
    const key = { partnerId: '085', apiKey: 'bench-callback-key' };
    const run = smile(checkout, ['callback', 'listen', '--port', String(port), '--out', out], {
      ...process.env,
      SMILE_PARTNER_ID: key.partnerId,
      SMILE_API_KEY: key.apiKey,
      SMILE_CONFIG_DIR: join(dir, 'config'),
      HOME: dir,
      NO_COLOR: '1',
      CI: '1',
    });
    let status = NaN;
    try {
      await until(async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
          return true;
        } catch {
          return false;
        }
      }, 20);
      const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
      const body = {
        ResultCode: '0810',
        ResultText: 'Enroll User',
        Actions: { Register_Selfie: 'Approved' },
        IsFinalResult: 'true',
        PartnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: 4 },
        SmileJobID: '0000000001',
        timestamp: old,
        signature: signRequest(key.apiKey, key.partnerId, old),
      };
      status = (
        await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).status;
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
    const stored = existsSync(out) && readFileSync(out, 'utf8').includes('"signature_verified":true');
    rows.push({
      name: 'callback listener: a 30-day-old signed callback',
      code: status,
      refused: status >= 400 && !stored,
      rssMb: NaN,
      message: `HTTP ${status}, ${stored ? 'stored as verified' : 'not stored as verified'}`,
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const results = [];
for (const checkout of checkouts) {
  console.error(`… ${checkout.label}: kill -9 trials`);
  const kill = await killTrials(checkout);
  console.error(`… ${checkout.label}: concurrent resume trials`);
  const concurrent = await concurrentResumeTrials(checkout);
  console.error(`… ${checkout.label}: hostile-server cases`);
  const hostile = await hostileRuns(checkout);
  results.push({ checkout, kill, concurrent, hostile });
}

const pad = (text, width) => String(text).padEnd(width);
const columns = results.map((r) => r.checkout.label);
console.log(`reliability (${new Date().toISOString().slice(0, 10)}, node ${process.version})`);
console.log(`${pad('', 58)}${columns.map((c) => pad(c, 34)).join('')}`);
const line = (label, pick) => console.log(`${pad(label, 58)}${results.map((r) => pad(pick(r), 34)).join('')}`);
line(`kill -9: trials × rows (kills)`, (r) => `${KILL_TRIALS} × ${KILL_ROWS} (${r.kill.kills} kills)`);
line('kill -9: lost / twice', (r) => `${r.kill.lost} lost / ${r.kill.twice} twice`);
line(`concurrent resume: trials × rows`, (r) => `${r.concurrent.trials} × ${RESUME_ROWS}`);
line('concurrent resume: twice / lost', (r) => `${r.concurrent.twice} twice / ${r.concurrent.lost} lost`);
line(
  'concurrent resume: second run refused',
  (r) => `${r.concurrent.refused}/${r.concurrent.trials} (exits ${r.concurrent.exits})`,
);
for (const [index, hostile] of results[0].hostile.entries()) {
  line(`hostile: ${hostile.name}`, (r) => {
    const row = r.hostile[index];
    return `${row.refused ? 'refused' : 'NOT REFUSED'} (${row.name.startsWith('callback') ? 'HTTP' : 'exit'} ${row.code})`;
  });
}
line('peak RSS, register vs a huge answer', (r) => {
  const row = r.hostile.find((h) => h.name.includes('MB job_status'));
  return `${row.rssMb.toFixed(0)} MB`;
});
const refusedCount = (r) => r.hostile.filter((h) => h.refused).length;
line('hostile cases refused', (r) => `${refusedCount(r)}/${r.hostile.length}`);
console.log('\nwhat each hostile case printed (this checkout):');
for (const row of results[0].hostile)
  console.log(`  ${pad(row.name, 50)} ${row.name.startsWith('callback') ? '' : `exit ${row.code}: `}${row.message}`);
