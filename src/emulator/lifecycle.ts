/** A job's life after its zip lands: processing delay, machine result, human review, callbacks. */
import type { EmulatorContext } from './context.js';
import { inspectUploadedZip } from './inspect-zip.js';
import { humanReviewResult, machineResult, type IssuedResult } from './outcomes.js';
import { withoutInlineImages, type EmulatorJob } from './state.js';

/** Stores and judges the zip of a job; the result becomes visible `processingMs` later. */
export function acceptZip(ctx: EmulatorContext, job: EmulatorJob, bytes: Uint8Array): void {
  job.puts += 1;
  if (job.zip) {
    // Like an S3 overwrite after processing has started: accepted, but the first zip stands.
    ctx.state.changed(job);
    return;
  }
  const { selfieBytes, ...inspection } = inspectUploadedZip(bytes);
  // A job_type 4 without a selfie is judged 0001 "Selfie image unusable – The submitted selfie is
  // corrupted or was not included in zip" (docs.usesmileid.com/further-reading/result-codes), with
  // or without use_enrolled_image: every server SDK refuses a selfie-less job_type 4 and relaxes the
  // rule only for job_types 6/11 (smile-api.md §6.5). For job_type 2 the selfie on file may stand
  // in with use_enrolled_image (docs image-types FAQ: "unless the user has previously been enrolled
  // with a selfie image and use_enrolled_image is set to true"); checked at prep upload (2216).
  if (job.jobType !== 4 && job.useEnrolledImage && !inspection.selfie && inspection.problem?.code === '0001')
    inspection.problem = null;
  // The selfie is kept once (a file beside the state file); base64 images in info.json are not kept again per job.
  job.zip = {
    receivedAt: new Date(ctx.now()).toISOString(),
    bytes: bytes.length,
    ...inspection,
    info: withoutInlineImages(inspection.info),
  };
  if (selfieBytes) ctx.state.setSelfie(job.jobId, selfieBytes);
  job.status = 'processing';
  job.readyAt = Date.now() + ctx.processingMs;
  ctx.state.changed(job);
  scheduleJob(ctx, job);
}

/** Arms the timer for the job's next step (also used after loading a state file). */
export function scheduleJob(ctx: EmulatorContext, job: EmulatorJob): void {
  if (job.status === 'processing' && job.readyAt !== null)
    ctx.timers.after(job.readyAt - Date.now(), () => settleJob(ctx, job));
  else if (job.status === 'under_review' && job.reviewAt !== null)
    ctx.timers.after(job.reviewAt - Date.now(), () => settleJob(ctx, job));
}

/** Brings a job up to date with the clock; idempotent, called by timers and by job_status. */
export function settleJob(ctx: EmulatorContext, job: EmulatorJob): void {
  const now = Date.now();
  if (job.status === 'processing' && job.zip && job.readyAt !== null && now >= job.readyAt) {
    const issued = machineResult(job, job.zip, ctx.rejectCode);
    if (issued.reviewFollows) {
      job.status = 'under_review';
      job.reviewAt = job.readyAt + ctx.humanReviewMs;
      scheduleJob(ctx, job);
    } else job.status = 'complete';
    issue(ctx, job, issued);
  }
  if (job.status === 'under_review' && job.zip && job.reviewAt !== null && now >= job.reviewAt) {
    job.status = 'complete';
    issue(ctx, job, humanReviewResult(job, job.zip));
  }
}

function issue(ctx: EmulatorContext, job: EmulatorJob, issued: IssuedResult): void {
  job.result = issued.result;
  job.results.push(issued.result);
  // UNVERIFIED: a provisional (0814, under review) result is answered with job_complete: true, as
  // the machine result is complete; whether the real job_status says true before the human review
  // is not confirmed by any source.
  job.jobComplete = true;
  job.jobSuccess = issued.jobSuccess;
  if (issued.enrolls) {
    const user = ctx.state.user(job.userId);
    user.enrolled = true;
    user.enrollments += 1;
    user.enrolledJobIds.push(job.jobId);
    ctx.state.userChanged(user);
  }
  ctx.state.changed(job);
  if (job.callbackUrl) ctx.callbacks.send(job.callbackUrl, job.jobId, issued.result);
}
