// Child process for test/compat/sdk.test.ts: runs the official Node SDK (smile-identity-core) unchanged
// against the emulator. NODE_EXTRA_CA_CERTS must point at the emulator's CA (read at process start).
// argv[2] = JSON {partnerId, apiKey, baseUrl, jobs: [{user_id, job_id, selfie}]}; prints one JSON array.
import smile from 'smile-identity-core';

const { WebApi } = smile;
const spec = JSON.parse(process.argv[2]);
const api = new WebApi(spec.partnerId, '', spec.apiKey, spec.baseUrl);
const outcomes = [];
for (const job of spec.jobs) {
  try {
    const result = await api.submit_job(
      { user_id: job.user_id, job_id: job.job_id, job_type: 4 },
      [{ image_type_id: 0, image: job.selfie }],
      {},
      { return_job_status: true },
    );
    outcomes.push({ ok: true, result });
  } catch (error) {
    outcomes.push({
      ok: false,
      message: String(error && error.message),
      status: error?.response?.status,
      data: error?.response?.data,
    });
  }
}
// Exit explicitly: axios' keep-alive sockets would otherwise hold the process for a while.
process.stdout.write(`${JSON.stringify(outcomes)}\n`, () => process.exit(0));
