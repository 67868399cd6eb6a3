/**
 * An example job handler — replace it with yours.
 *
 * The deployed workers run the module that `worker.handler` in infra/settings.ts names; every stage
 * but prod names this one, so a fresh `sst deploy --stage dev` has workers that do something
 * visible: each job completes with its payload echoed back as the result, and a job of type
 * `example.fail` goes straight to the dead-letter queue (to try the DLQ and its alarm).
 *
 * Point `worker.handler` at your own module (any path in the repo, importing whatever the repo's
 * package.json provides): the image build bundles it with esbuild into one self-contained file.
 * See docs/worker.md for what a handler may do.
 */
import { NonRetryableError, type JobHandler } from "@workstream/core";

const handler: JobHandler = async (job, ctx) => {
  ctx.logger.info("example handler: job received", { jobId: job.id, type: job.type, attempt: ctx.attempt });
  if (job.type === "example.fail") throw new NonRetryableError("example.fail jobs are dead-lettered on purpose");
  return { echo: job.payload, type: job.type, handledBy: ctx.workerId, attempt: ctx.attempt };
};

export default handler;
