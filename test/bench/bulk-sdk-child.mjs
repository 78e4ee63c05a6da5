// Child process of test/bench/bulk.mjs: the official Node SDK (smile-identity-core) registering
// JOBS users against the emulator, CONCURRENCY at a time, each with `return_job_status: true`
// (it polls to the result itself). NODE_EXTRA_CA_CERTS must name the emulator's CA.
// argv[2] = JSON {partnerId, apiKey, baseUrl, selfie, prefix, jobs, concurrency}; prints one JSON line.
import smile from 'smile-identity-core';

const { WebApi } = smile;
const spec = JSON.parse(process.argv[2]);
const api = new WebApi(spec.partnerId, '', spec.apiKey, spec.baseUrl);
let next = 0;
let approved = 0;
const failures = [];
async function worker() {
  while (next < spec.jobs) {
    const index = next++;
    const id = `${spec.prefix}-${index}`;
    try {
      const result = await api.submit_job(
        { user_id: id, job_id: `job-${id}`, job_type: 4 },
        [{ image_type_id: 0, image: spec.selfie }],
        {},
        { return_job_status: true },
      );
      if (result && result.job_success === true) approved++;
      else failures.push({ id, result: result?.result?.ResultCode ?? null });
    } catch (error) {
      failures.push({ id, error: String(error?.message ?? error) });
    }
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: spec.concurrency }, worker));
const elapsedMs = performance.now() - started;
// Exit explicitly: axios' keep-alive sockets would otherwise hold the process for a while.
process.stdout.write(
  `${JSON.stringify({ approved, failures: failures.slice(0, 5), failed: failures.length, elapsedMs })}\n`,
  () => process.exit(0),
);
