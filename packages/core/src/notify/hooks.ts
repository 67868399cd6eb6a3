/**
 * Where notifications are triggered. The HTTP API (functions/) calls these right after the engine
 * call returns; the Worker runtime and scheduled maintenance send queued callbacks themselves
 * (deliverCallbacks), and maintenance also runs the DLQ sweep and the push nudge.
 *
 *   const ack = await engine.ack(jobId, token, result);
 *   await afterAck(notify, { jobId, ack });                          // callback_url → sends the outbox
 *
 *   const fail = await engine.fail(jobId, token, { error, retryable });
 *   await afterFail(notify, { jobId, fail });                        // failed for good → sends the outbox;
 *                                                                    // retried job of a push queue → push delivery
 *   const results = await engine.enqueueBatch(requests);
 *   await afterEnqueue(notify, results);                             // push queue → one delivery per new job
 *
 * `notify` is the context from `createNotifyContext` (null when notifications are off: every hook
 * is then a no-op). Hooks never throw: each returns what it delivered, and failures are also
 * logged as structured JSON.
 *
 * Which path sends what, so every outcome is sent once:
 *   completed / failed / dead_lettered         queued in the callback outbox by the script that
 *   (for jobs with a callback_url)             finished the job, whoever finished it; sent by the
 *                                              first of: the API request that finished it, the
 *                                              Worker that did (when given `notify`), maintenance
 *                                              (every minute; it also retries failed sends)
 *   DLQ alert webhook (every new DLQ entry)    the maintenance DLQ sweep
 * With QStash, the deduplication id `${jobId}:${outcome}:${finishedAt}` also drops a repeated send.
 */
import type { EnqueueResult, FailOutcome, QueueStats } from "../engine.ts";
import { ConfigError } from "../errors.ts";
import type { Job } from "../job.ts";
import type { DroppedCallback, QueuedCallback, TakeCallbacksOptions } from "../callbacks.ts";
import { describeError, jsonLineLogger, type StructuredLogger } from "../maintenance/log.ts";
import { deliverCallbacks } from "./callbacks.ts";
import type { NotifyConfig, PushQueueConfig } from "./config.ts";
import { createNotifier, NOTIFY_ENV } from "./config.ts";
import { mapLimit, send } from "./deliver.ts";
import { EVENT_HEADER, type BriefError, type DeliveryResult, type DlqAlertMessage, type Notifier, type PushMessage } from "./notifier.ts";

/** What notifications need from the engine (`engine` satisfies it): job lookups and the callback outbox. */
export interface NotifyEngine {
  getJob(jobId: string): Promise<Pick<Job, "queue" | "attempts">>;
  takeCallbacks(opts?: TakeCallbacksOptions): Promise<{ callbacks: QueuedCallback[]; dropped: DroppedCallback[] }>;
  settleCallbacks(entries: readonly string[]): Promise<number>;
}

export interface NotifyContext {
  notifier: Notifier;
  jobs: NotifyEngine;
  dlqWebhookUrl: string | null;
  pushQueues: Readonly<Record<string, PushQueueConfig>>;
  /** Destination retries per message (default 3). */
  retries: number;
  now: () => number;
  log: StructuredLogger;
}

export interface DeliveryReport {
  kind: "callback" | "dlq_alert" | "push";
  url: string;
  deduplicationId: string;
  result: DeliveryResult;
}

/**
 * Builds the context the hooks take from a parsed configuration, or null when notifications are
 * off. Throws a ConfigError naming WORKSTREAM_PUSH_QUEUES when it names a queue the engine lacks.
 */
export function createNotifyContext(opts: {
  config: NotifyConfig;
  jobs: NotifyEngine;
  queueNames: readonly string[];
  notifier?: Notifier | null;
  now?: () => number;
  log?: StructuredLogger;
}): NotifyContext | null {
  for (const q of Object.keys(opts.config.pushQueues)) {
    if (!opts.queueNames.includes(q)) {
      throw new ConfigError(`${NOTIFY_ENV.pushQueues}: unknown queue "${q}" (known: ${opts.queueNames.join(", ")})`, { variable: NOTIFY_ENV.pushQueues });
    }
  }
  const notifier = opts.notifier === undefined ? createNotifier(opts.config) : opts.notifier;
  if (!notifier) return null;
  return {
    notifier,
    jobs: opts.jobs,
    dlqWebhookUrl: opts.config.dlqWebhookUrl,
    pushQueues: opts.config.pushQueues,
    retries: opts.config.retries,
    now: opts.now ?? Date.now,
    log: opts.log ?? jsonLineLogger,
  };
}

/** QStash flow-control key of a push queue: at most `parallelism` of its deliveries run at once. */
export const pushFlowKey = (queue: string) => `workstream-${queue}`;

async function lookup(ctx: NotifyContext, jobId: string, queue?: string, attempts?: number): Promise<{ queue: string; attempts: number } | null> {
  if (queue !== undefined && attempts !== undefined) return { queue, attempts };
  try {
    const job = await ctx.jobs.getJob(jobId);
    return { queue: queue ?? job.queue, attempts: attempts ?? job.attempts };
  } catch (e) {
    ctx.log.log({ level: "warn", event: "notify.job_lookup_failed", jobId, error: describeError(e) });
    return null;
  }
}

/**
 * An API request sends at most one small batch from the outbox (normally just its own job's
 * callback): a backlog left by others is for workers and maintenance, not for the latency of
 * whoever acks next.
 */
const API_SEND = { sender: "api", limit: 20, maxPasses: 1 } as const;

export interface AfterAckInput {
  jobId: string;
  /** What engine.ack returned: a callback URL means a `completed` callback was queued. */
  ack: { callbackUrl: string | null };
}

/** After engine.ack of a job with a callback URL: sends the callback outbox (this job's `completed` with the rest). */
export async function afterAck(ctx: NotifyContext | null, input: AfterAckInput): Promise<DeliveryReport[]> {
  if (!ctx || !input.ack.callbackUrl) return [];
  return deliverCallbacks(ctx, API_SEND);
}

export interface AfterFailInput {
  jobId: string;
  /** What engine.fail returned. */
  fail: { outcome: FailOutcome; nextAttemptAt: number | null; callbackUrl: string | null };
  queue?: string;
  /** The attempt that failed (the claim's `job.attempt`). */
  attempts?: number;
}

/**
 * After engine.fail: a job that failed for good (`failed` for a non-retryable error,
 * `dead_lettered` when its retries ran out) had its callback queued: the outbox is sent. A job of a
 * push queue that will be retried gets a push delivery not before its next attempt.
 */
export async function afterFail(ctx: NotifyContext | null, input: AfterFailInput): Promise<DeliveryReport[]> {
  if (!ctx) return [];
  const reports: DeliveryReport[] = [];
  if (input.fail.outcome === "dead_lettered") {
    return input.fail.callbackUrl ? deliverCallbacks(ctx, API_SEND) : [];
  }
  if (Object.keys(ctx.pushQueues).length === 0) return [];
  const meta = await lookup(ctx, input.jobId, input.queue, input.attempts);
  if (!meta || !ctx.pushQueues[meta.queue]) return [];
  const at = input.fail.nextAttemptAt;
  // the retry's due time makes the id unique per retry: attempt numbers start over after a DLQ replay
  reports.push(await push(ctx, meta.queue, input.jobId, "retry", `${input.jobId}:push:a${meta.attempts}:${at ?? 0}`, at !== null && at > ctx.now() ? at : undefined));
  return reports;
}

function push(ctx: NotifyContext, queue: string, jobId: string | null, reason: PushMessage["reason"], deduplicationId: string, notBefore?: number): Promise<DeliveryReport> {
  const cfg = ctx.pushQueues[queue]!;
  const body: PushMessage = { jobId, queue, reason };
  return send(ctx, "push", {
    url: cfg.url,
    body,
    deduplicationId,
    retries: cfg.retries ?? ctx.retries,
    flowControl: { key: pushFlowKey(queue), parallelism: cfg.parallelism },
    headers: { [EVENT_HEADER]: "job.push" },
    ...(notBefore !== undefined ? { notBefore } : {}),
  });
}

/**
 * After engine.enqueue / enqueueBatch: one push delivery per newly created job of a push queue.
 * A scheduled job is delivered not before its `runAt` (ms) when given; without it, the
 * maintenance nudge announces it once it is due and waiting.
 */
export async function afterEnqueue(
  ctx: NotifyContext | null,
  results: ReadonlyArray<EnqueueResult & { runAt?: number | null }>,
): Promise<DeliveryReport[]> {
  if (!ctx || Object.keys(ctx.pushQueues).length === 0) return [];
  const todo = results.filter((r) => r.created && ctx.pushQueues[r.queue] && (r.status === "pending" || (r.status === "scheduled" && r.runAt)));
  return mapLimit(todo, 10, (r) => push(ctx, r.queue, r.id, "enqueued", `${r.id}:push:a0`, r.status === "scheduled" ? r.runAt ?? undefined : undefined));
}

/** A new DLQ entry as the maintenance sweep reports it. */
export interface DeadLetterEntry {
  id: string;
  queue: string;
  deadLetteredAt: number;
  reason: string;
  attempts: number;
  error: BriefError;
}

/**
 * For new DLQ entries (from the maintenance sweep): one alert each to the DLQ webhook. (The
 * `dead_lettered` callback of a job whose last lease expired is queued in the callback outbox by
 * the reclaimer, like every other outcome.)
 */
export async function notifyDeadLetters(ctx: NotifyContext | null, entries: readonly DeadLetterEntry[]): Promise<DeliveryReport[]> {
  if (!ctx) return [];
  const work: Array<() => Promise<DeliveryReport>> = [];
  for (const e of entries) {
    const at = new Date(e.deadLetteredAt).toISOString();
    if (ctx.dlqWebhookUrl) {
      const url = ctx.dlqWebhookUrl;
      const body: DlqAlertMessage = { type: "dlq_entry", jobId: e.id, queue: e.queue, reason: e.reason, attempts: e.attempts, error: e.error, deadLetteredAt: at };
      work.push(() => send(ctx, "dlq_alert", { url, body, deduplicationId: `dlq:${e.id}:${e.deadLetteredAt}`, retries: ctx.retries, headers: { [EVENT_HEADER]: "dlq.entry" } }));
    }
  }
  return mapLimit(work, 10, (f) => f());
}

/**
 * Re-announces work left waiting in push queues (jobs promoted from delay or retry, reclaimed from
 * a lost lease, or whose delivery was lost): for each push queue whose oldest pending job has
 * waited at least `olderThanMs`, up to `parallelism` deliveries, deduplicated per minute.
 */
export async function nudgePushQueues(ctx: NotifyContext | null, stats: readonly QueueStats[], opts: { at: number; olderThanMs: number }): Promise<DeliveryReport[]> {
  if (!ctx) return [];
  const minute = Math.floor(opts.at / 60_000);
  const work: Array<() => Promise<DeliveryReport>> = [];
  for (const s of stats) {
    const cfg = ctx.pushQueues[s.queue];
    if (!cfg || s.pending === 0 || s.oldestPendingAgeMs === null || s.oldestPendingAgeMs < opts.olderThanMs) continue;
    for (let i = 0; i < Math.min(s.pending, cfg.parallelism); i++) {
      work.push(() => push(ctx, s.queue, null, "nudge", `${s.queue}:nudge:${minute}:${i}`));
    }
  }
  return mapLimit(work, 10, (f) => f());
}
