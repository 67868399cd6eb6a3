/**
 * The queue engine: every operation is one Lua script run through the narrow Redis port, so the
 * same code runs over Upstash's REST API (Lambda) and TCP (workers). Expected outcomes are values
 * (`claim` returns `{status: "empty"}`); misuse is a typed error with a stable code.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { EngineSettings, type EngineSettingsInput } from "./config.ts";
import { EnqueueRequest, type EnqueueRequestInput } from "./enqueue-request.ts";
import {
  ConfigError,
  JobNotFoundError,
  LeaseLostError,
  NotCancellableError,
  PayloadTooLargeError,
  ValidationError,
} from "./errors.ts";
import { JobStatus, parseJobHash, type Job } from "./job.ts";
import { keySpace, PERMISSION_LEVELS, type KeySpace } from "./keys.ts";
import { Id, type PermissionLevel } from "./messages.ts";
import { QueueRegistry, queueForPriority } from "./queues.ts";
import { encodeRetryPolicy, isRetryable } from "./retry.ts";
import { settleCallbacks, takeCallbacks, type DroppedCallback, type QueuedCallback, type TakeCallbacksOptions } from "./callbacks.ts";
import { runScript, runScriptRaw } from "./scripts.ts";
import { ACK_WIDTH, CLAIMED_WIDTH, flatReply, readAckOutcomes, readClaimed, readEnqueueReply, type AckOutcome, type Claimed, type ClaimedJob, type Lease } from "./claimed.ts";
import { validate } from "./validate.ts";
import type { ScriptName } from "./lua/scripts.generated.ts";
import type { BlockingRedisPort, RedisPort } from "./transports/port.ts";
import type { EngineContext } from "./context.ts";
import { listJobs, type JobPage, type ListJobsOptions } from "./jobs-list.ts";
import { deleteSchedule, fireSchedules, getSchedule, listSchedules, putSchedule, type FireReport, type Schedule, type ScheduledJob, type ScheduleInput } from "./schedules.ts";
import { dlqGet, dlqList, dlqPurge, dlqPurgeAll, dlqReplay, type DlqListOptions, type DlqPage, type ReplayOutcome } from "./dlq.ts";
import { answerRequest, askQuestion, getAnswer, listRequests, waitForAnswer, type AnswerInput, type AskInput, type RequestStatus, type RequestView } from "./requests.ts";
import type { ControllerResponseMessage, WorkerRequestMessage } from "./messages.ts";

export interface EngineOptions {
  redis: RedisPort;
  settings?: EngineSettingsInput;
  /** Clock in ms; injected by tests. */
  now?: () => number;
  /** Uniform random in [0, 1); injected by tests to pin retry jitter. */
  random?: () => number;
}

export interface EnqueueResult {
  id: string;
  queue: string;
  status: JobStatus;
  /** False when a job with this id already existed (idempotent enqueue): nothing was changed. */
  created: boolean;
}

export interface ClaimOptions {
  /** Who holds the lease: the stream consumer and the job's `worker`. */
  workerId: string;
  /** Queues to take work from; always drained in strict priority order. Default: all. */
  queues?: readonly string[];
  /** Permission levels this claimer may take. Default: autonomous only. */
  permissionLevels?: readonly PermissionLevel[];
  /** Lease length; default the job's timeout. Shorter leases plus heartbeats recover faster from dead workers. */
  leaseMs?: number;
}

export type { ClaimedJob, Lease, AckOutcome } from "./claimed.ts";

export type ClaimResult =
  | { status: "claimed"; job: ClaimedJob; lease: Lease }
  | { status: "empty"; /** When the next timer (lease deadline or delayed job) is due, if any. */ nextTimerAt: number | null };

export interface HolderOption {
  /**
   * When set, the operation also requires that the lease belongs to this holder: the job's worker
   * is `holder` or `holder:<instance>` (the API passes the caller's principal). Otherwise lease_lost.
   */
  holder?: string;
}

export interface FailOptions extends HolderOption {
  error: { name?: string; message: string; stack?: string | null };
  /**
   * False sends the job straight to the dead-letter queue; true retries it while attempts remain.
   * Default: seed 2's classification of the error (`isRetryable`: ValueError, TypeError, KeyError,
   * validation errors and messages saying "invalid", "not found" or "validation" are permanent).
   */
  retryable?: boolean;
  /** Retry after this delay instead of the job's policy (e.g. a rate limit's Retry-After). */
  retryAfterMs?: number;
}

export type FailOutcome = "pending" | "retrying" | "dead_lettered";

export interface AckOptions extends HolderOption {
  /**
   * Lease the caller's next job(s) in the same call: one round trip per job for a busy worker.
   * With `tipsFor`, a next-claim that leases fewer than `count` also reports what an empty claim
   * would (`AckManyResult.idle`), so a worker going idle waits without another claim.
   */
  next?: ClaimOptions & { count?: number; tipsFor?: readonly string[] };
}

export interface ClaimBatchOptions extends ClaimOptions {
  /** Most jobs to lease in this call, 1..100. Default 1. */
  count?: number;
  /** Streams (e.g. a worker's control stream) whose tips an empty claim reports along with the ready streams'. */
  tipsFor?: readonly string[];
}

export interface ClaimBatchResult {
  jobs: Array<{ job: ClaimedJob; lease: Lease }>;
  /** When fewer jobs than `count` were claimable: the next timer's due time, if any. */
  nextTimerAt: number | null;
  /**
   * When fewer jobs than `count` were claimable and `tipsFor` was given: each stream (tipsFor
   * first, then the ready streams read) with its newest id, for a race-free wait.
   */
  tips: Array<{ key: string; afterId: string }> | null;
}

const MINT = Symbol("EncodedResult.mint");

/** A job result already encoded and size-checked: only Engine.encodeResult makes one. */
export class EncodedResult {
  private constructor(readonly json: string) {}
  /** @internal */
  static [MINT](json: string): EncodedResult {
    return new EncodedResult(json);
  }
}

/** Most jobs one claim (or an ack's next-claim) leases. */
export const MAX_CLAIM_BATCH = 100;

/** Most acks in one ackMany call. */
export const MAX_ACK_BATCH = 200;

export interface AckManyResult {
  /** One per input item, in input order. */
  outcomes: AckOutcome[];
  /** Jobs leased for the caller in the same call (AckOptions.next). */
  next: Claimed[];
  /**
   * When `next.tipsFor` was given and the streams ran dry before `count` jobs were leased: the next
   * timer and the stream tips, as an empty claimBatch reports them. Null otherwise.
   */
  idle: Pick<ClaimBatchResult, "nextTimerAt" | "tips"> | null;
}

export interface AckResult {
  /** Jobs leased for the caller in the same call (AckOptions.next). */
  next: Array<{ job: ClaimedJob; lease: Lease }>;
  /** Run time of this attempt. */
  durationMs: number;
  queue: string;
  attempts: number;
  /** Where the producer asked for the outcome to be reported, if anywhere. */
  callbackUrl: string | null;
}

export interface FailResult {
  outcome: FailOutcome;
  /** When the retry is due (outcome "retrying"). */
  nextAttemptAt: number | null;
  queue: string;
  attempts: number;
  callbackUrl: string | null;
}

export interface QueueStats {
  queue: string;
  pending: number;
  started: number;
  scheduled: number;
  finished: number;
  failed: number;
  /** Jobs waiting for the jobs they depend on. */
  deferred: number;
  dlq: number;
  oldestPendingAgeMs: number | null;
  /** Entries in the queue's ready streams (XLEN): pending + started. Seed 2's `stream_length`. */
  streamLength: number;
  totals: Record<string, number>;
  /** pending and started per permission level: what only workers allowed that level can take. */
  byLevel: Record<PermissionLevel, { pending: number; started: number }>;
}

export interface TickResult {
  reclaimed: number;
  promoted: number;
  expired: number;
  trimmed: number;
  /** Pending entries put back in step with the leases (a missing lease timer re-armed, an orphan dropped). */
  reconciled: number;
  /** The jobs recurring schedules' runs enqueued, and the schedules that could not fire. */
  scheduled: ScheduledJob[];
  scheduleFailures: Array<{ name: string; error: string }>;
}

const LEVEL_CLAIM_ORDER: readonly PermissionLevel[] = ["human_required", "supervised", "autonomous"];

const LeaseReply = z.union([
  z.object({ ok: z.literal(true) }).passthrough(),
  z.object({ ok: z.literal(false), code: z.enum(["lease_lost", "job_not_found", "not_cancellable"]), status: z.string().optional() }),
]);

const parseJson = <T>(schema: z.ZodType<T>, raw: string): T => schema.parse(JSON.parse(raw));

export class Engine {
  readonly settings: EngineSettings;
  readonly queues: QueueRegistry;
  readonly keys: KeySpace;
  private readonly redis: RedisPort;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly ctx: EngineContext;

  constructor(opts: EngineOptions) {
    const settings = EngineSettings.safeParse(opts.settings ?? {});
    if (!settings.success) throw new ConfigError(`engine settings: ${settings.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    this.settings = settings.data;
    this.queues = new QueueRegistry(this.settings.queues);
    this.keys = keySpace(this.settings.keyPrefix);
    this.redis = opts.redis;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.ctx = {
      run: (name, args) => this.run(name, args),
      runRaw: (name, args) => this.runRaw(name, args),
      now: this.now,
      random: this.random,
      keys: this.keys,
      settings: this.settings,
      queues: this.queues,
    };
  }

  private run(name: ScriptName, args: ReadonlyArray<string | number>, keys: readonly string[] = []): Promise<string> {
    return runScript(this.redis, name, keys, [this.keys.prefix, this.now(), ...args]);
  }

  private runRaw(name: ScriptName, args: ReadonlyArray<string | number>): Promise<unknown> {
    return runScriptRaw(this.redis, name, [], [this.keys.prefix, this.now(), ...args]);
  }

  private jitter(): number {
    return this.random() * 2 - 1;
  }

  /** Validates a request and resolves it against its queue into the spec the enqueue script stores. */
  private toSpec(input: EnqueueRequestInput, now: number): JobSpec {
    const r = validate(EnqueueRequest, input, "");
    const queue = this.queues.get(r.queue ?? queueForPriority(r.priority));
    const payload = JSON.stringify(r.payload);
    const bytes = Buffer.byteLength(payload);
    if (bytes > this.settings.maxPayloadBytes) throw new PayloadTooLargeError(bytes, this.settings.maxPayloadBytes);
    const cap = (ms: number) => Math.min(ms, this.settings.maxJobTtlMs);
    const runAt = r.runAt ? Date.parse(r.runAt) : r.delayMs ? now + r.delayMs : 0;
    return {
      id: r.id ?? randomUUID(),
      fresh: r.id === undefined,
      queue: queue.name,
      level: r.permissionLevel,
      priority: r.priority,
      type: r.type,
      payload,
      max_attempts: (r.maxRetries ?? queue.maxRetries) + 1,
      timeout_ms: r.timeoutSeconds !== undefined ? r.timeoutSeconds * 1000 : queue.timeoutMs,
      ttl_ms: r.ttlSeconds !== undefined ? r.ttlSeconds * 1000 : queue.ttlMs,
      retry: encodeRetryPolicy(r.retry ?? queue.retry),
      result_ttl_ms: cap(queue.resultTtlMs),
      failure_ttl_ms: cap(queue.failureTtlMs),
      dlq_ttl_ms: this.settings.dlqRetentionMs,
      run_at: runAt,
      callback_url: r.callbackUrl ?? "",
      depends_on: [...new Set(r.dependsOn ?? [])],
      created_at: r.createdAt ?? new Date(now).toISOString(),
    };
  }

  /** Enqueues one job. Idempotent on its id: a second enqueue returns the existing job with created=false. */
  async enqueue(input: EnqueueRequestInput): Promise<EnqueueResult> {
    const [result] = await this.enqueueBatch([input]);
    return result!;
  }

  /** Enqueues many jobs in one round trip and one atomic script. Validates all before writing any. */
  async enqueueBatch(inputs: readonly EnqueueRequestInput[]): Promise<EnqueueResult[]> {
    if (inputs.length === 0) return [];
    if (inputs.length > 1000) throw new ValidationError("a batch holds at most 1000 jobs", { size: inputs.length });
    const now = this.now();
    const specs = inputs.map((input, i) => {
      try {
        return this.toSpec(input, now);
      } catch (e) {
        if (e instanceof ValidationError && inputs.length > 1) throw new ValidationError(`jobs[${i}]: ${e.message}`, { ...e.details, index: i });
        throw e;
      }
    });
    const reply = readEnqueueReply(await this.runRaw("enqueue", specs.flatMap(specArgs)), specs.length);
    if (!reply.ok) {
      if (reply.code === "job_not_found") throw new ValidationError(`dependsOn: job "${reply.id}" does not exist`, { path: ["dependsOn"], jobId: reply.id });
      if (reply.code === "self_dependency") throw new ValidationError(`dependsOn: job "${reply.id}" cannot depend on itself`, { path: ["dependsOn"], jobId: reply.id });
      throw new ValidationError(`dependsOn: job "${reply.id}" already ${reply.status || "failed"}; this job could never start`, { path: ["dependsOn"], jobId: reply.id });
    }
    return reply.jobs.map((r, i) => ({ id: specs[i]!.id, status: r.status, created: r.created, queue: r.queue }));
  }

  /**
   * Leases the next job: strict priority order across queues, only the permission levels the
   * claimer may take (within a queue, the most restricted level first: such work has fewer takers).
   */
  async claim(opts: ClaimOptions): Promise<ClaimResult> {
    const r = await this.claimBatch({ ...opts, count: 1 });
    const first = r.jobs[0];
    return first ? { status: "claimed", ...first } : { status: "empty", nextTimerAt: r.nextTimerAt };
  }

  /**
   * Leases up to `count` jobs in one call (a worker with several free slots fills them at once).
   * With `tipsFor`, an empty result also reports the newest entry id of those streams and of every
   * ready stream it read, for a race-free blocking wait (BlockingRedisPort.waitForEntries).
   */
  async claimBatch(opts: ClaimBatchOptions): Promise<ClaimBatchResult> {
    const { workerId, pairs, leaseMs } = this.claimSpec(opts);
    const count = opts.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_CLAIM_BATCH) throw new ValidationError(`count must be a whole number from 1 to ${MAX_CLAIM_BATCH}`);
    const tipsFor = opts.tipsFor ?? null;
    const args = [workerId, leaseMs, Math.floor(this.random() * 1e9), count, tipsFor ? tipsFor.length : 0, ...(tipsFor ?? []), ...pairs];
    const flat = flatReply(await this.runRaw("claim", args), "claim");
    const tipKeys = tipsFor ? [...tipsFor, ...this.readyKeys(pairs)] : null;
    let jobs: Claimed[] = [];
    let at = 1; // where the next timer is
    if (flat[0] === "claimed") {
      const partial = (n: number) => tipKeys !== null && n < count;
      jobs = readClaimed(flat, 1, "claim", (n) => (partial(n) ? 1 + tipKeys!.length : 0));
      if (!partial(jobs.length)) return { jobs, nextTimerAt: null, tips: null };
      at = 2 + jobs.length * CLAIMED_WIDTH;
    } else if (flat[0] !== "empty") {
      throw new Error(`claim replied ${String(flat[0])}`);
    }
    const nextTimer = z.number().parse(flat[at]);
    const tips = tipKeys ? tipKeys.map((key, i) => ({ key, afterId: z.string().parse(flat[at + 1 + i]) })) : null;
    return { jobs, nextTimerAt: nextTimer >= 0 ? nextTimer : null, tips };
  }

  /** Validates claim options into the script's arguments: worker id, (queue, level) pairs in claim order, lease. */
  private claimSpec(opts: ClaimOptions): { workerId: string; pairs: string[]; leaseMs: number } {
    const workerId = validate(Id, opts.workerId, "workerId");
    const levels = new Set<string>(opts.permissionLevels ?? ["autonomous"]);
    for (const l of levels) if (!(PERMISSION_LEVELS as readonly string[]).includes(l)) throw new ValidationError(`unknown permission level "${l}"`);
    const pairs = this.queues
      .claimOrder(opts.queues)
      .flatMap((q) => LEVEL_CLAIM_ORDER.filter((l) => levels.has(l)).flatMap((l) => [q.name, l]));
    const leaseMs = opts.leaseMs ?? 0;
    if (!Number.isInteger(leaseMs) || leaseMs < 0) throw new ValidationError("leaseMs must be a whole number of ms ≥ 0");
    return { workerId, pairs, leaseMs };
  }

  private leaseReply(jobId: string, raw: string) {
    const reply = parseJson(LeaseReply, raw);
    if (reply.ok) return reply as { ok: true } & Record<string, unknown>;
    if (reply.code === "job_not_found") throw new JobNotFoundError(jobId);
    if (reply.code === "not_cancellable") throw new NotCancellableError(jobId, reply.status ?? "finished");
    throw new LeaseLostError(jobId, reply.status ?? null);
  }

  private static token(token: number): string {
    if (!Number.isSafeInteger(token) || token < 1) throw new ValidationError("lease token must be a positive whole number");
    return String(token);
  }

  /** Extends the lease (to now + extendMs, default the lease length given at claim) and optionally records progress. */
  async heartbeat(jobId: string, token: number, opts: { extendMs?: number; progress?: unknown } & HolderOption = {}): Promise<{ leaseExpiresAt: number }> {
    const id = validate(Id, jobId, "jobId");
    const ext = opts.extendMs ?? 0;
    if (!Number.isInteger(ext) || ext < 0) throw new ValidationError("extendMs must be a whole number of ms ≥ 0");
    const progress = opts.progress === undefined ? "" : JSON.stringify(opts.progress);
    const reply = this.leaseReply(id, await this.run("heartbeat", [id, Engine.token(token), ext, progress, opts.holder ?? ""]));
    return { leaseExpiresAt: z.number().parse(reply["lease_until"]) };
  }

  /** Completes the job with a result (any JSON value), kept for the queue's result TTL. */
  async ack(jobId: string, token: number, result: unknown = null, opts: AckOptions = {}): Promise<AckResult> {
    const { outcomes, next } = await this.ackMany([{ jobId, token, result }], opts);
    const o = outcomes[0]!;
    if (!o.ok) {
      if (o.code === "job_not_found") throw new JobNotFoundError(jobId);
      throw new LeaseLostError(jobId, o.status);
    }
    return { next, durationMs: o.durationMs, queue: o.queue, attempts: o.attempts, callbackUrl: o.callbackUrl };
  }

  /**
   * Completes several jobs in one call (a worker acks everything that finished while its previous
   * ack was in flight), optionally leasing the caller's next jobs in the same call. Each ack is
   * checked on its own: a lost lease refuses that ack only (its outcome says why). Input errors
   * (bad id or token, a result too large) reject the whole call before anything is written.
   */
  async ackMany(items: ReadonlyArray<{ jobId: string; token: number; result?: unknown }>, opts: AckOptions = {}): Promise<AckManyResult> {
    if (items.length < 1 || items.length > MAX_ACK_BATCH) throw new ValidationError(`an ack batch holds 1 to ${MAX_ACK_BATCH} jobs`);
    const args: Array<string | number> = [opts.holder ?? "", items.length];
    for (const item of items) {
      const body = item.result instanceof EncodedResult ? item.result.json : this.encodeResult(item.result).json;
      args.push(validate(Id, item.jobId, "jobId"), Engine.token(item.token), body);
    }
    let tipKeys: string[] | null = null;
    let count = 0;
    if (opts.next) {
      const spec = this.claimSpec(opts.next);
      count = opts.next.count ?? 1;
      if (!Number.isInteger(count) || count < 1 || count > MAX_CLAIM_BATCH) throw new ValidationError(`next.count must be a whole number from 1 to ${MAX_CLAIM_BATCH}`);
      const extra = opts.next.tipsFor ?? [];
      args.push(spec.workerId, spec.leaseMs, count, extra.length, ...extra, ...spec.pairs);
      if (extra.length > 0) tipKeys = [...extra, ...this.readyKeys(spec.pairs)];
    } else {
      args.push("");
    }
    const flat = flatReply(await this.runRaw("ack", args), "ack");
    const reportsIdle = (n: number) => tipKeys !== null && n < count;
    const at = items.length * ACK_WIDTH;
    const next = readClaimed(flat, at, "ack", (n) => (reportsIdle(n) ? 1 + tipKeys!.length : 0));
    let idle: AckManyResult["idle"] = null;
    if (tipKeys && reportsIdle(next.length)) {
      const i = at + 1 + next.length * CLAIMED_WIDTH;
      const nextTimer = z.number().parse(flat[i]);
      idle = { nextTimerAt: nextTimer >= 0 ? nextTimer : null, tips: tipKeys.map((key, k) => ({ key, afterId: z.string().parse(flat[i + 1 + k]) })) };
    }
    return { outcomes: readAckOutcomes(flat, items.length), next, idle };
  }

  /** The ready stream of each (queue, level) pair, in order. */
  private readyKeys(pairs: readonly string[]): string[] {
    const keys: string[] = [];
    for (let i = 0; i < pairs.length; i += 2) keys.push(this.keys.ready(pairs[i]!, pairs[i + 1] as PermissionLevel));
    return keys;
  }

  /**
   * A job result as ack stores it: JSON within the payload size limit (PayloadTooLargeError
   * otherwise). A worker encodes each result when its handler returns, so a result that cannot be
   * stored fails that job alone, and passes the EncodedResult to ackMany (not encoded again).
   */
  encodeResult(result: unknown): EncodedResult {
    const body = JSON.stringify(result ?? null) as string | undefined;
    if (body === undefined) throw new ValidationError("the result must be JSON (a function or symbol is not)");
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long result needs its bytes counted.
    if (body.length * 3 > this.settings.maxPayloadBytes) {
      const bytes = Buffer.byteLength(body);
      if (bytes > this.settings.maxPayloadBytes) throw new PayloadTooLargeError(bytes, this.settings.maxPayloadBytes);
    }
    return EncodedResult[MINT](body);
  }

  /** Records a failed attempt: retried with backoff while attempts remain and the error is retryable, else dead-lettered. */
  async fail(jobId: string, token: number, opts: FailOptions): Promise<FailResult> {
    const id = validate(Id, jobId, "jobId");
    const err = validate(FailError, opts.error, "error");
    const retryAfter = opts.retryAfterMs ?? -1;
    if (!Number.isInteger(retryAfter) || retryAfter < -1) throw new ValidationError("retryAfterMs must be a whole number of ms ≥ 0");
    const retryable = opts.retryable ?? isRetryable(err);
    const args = [id, Engine.token(token), JSON.stringify(err), retryable ? "1" : "0", this.jitter(), retryAfter, opts.holder ?? ""];
    const reply = this.leaseReply(id, await this.run("fail", args));
    return {
      outcome: z.enum(["pending", "retrying", "dead_lettered"]).parse(reply["outcome"]),
      nextAttemptAt: (reply["next_attempt_at"] as number | false) || null,
      queue: z.string().parse(reply["queue"]),
      attempts: z.number().parse(reply["attempts"]),
      callbackUrl: (reply["callback_url"] as string) || null,
    };
  }

  /** Gives the job back without counting the attempt (e.g. on shutdown), optionally after a delay. */
  async release(jobId: string, token: number, opts: { delayMs?: number } & HolderOption = {}): Promise<{ status: "pending" | "scheduled" }> {
    const id = validate(Id, jobId, "jobId");
    const delay = opts.delayMs ?? 0;
    if (!Number.isInteger(delay) || delay < 0) throw new ValidationError("delayMs must be a whole number of ms ≥ 0");
    const reply = this.leaseReply(id, await this.run("release", [id, Engine.token(token), delay, opts.holder ?? ""]));
    return { status: z.enum(["pending", "scheduled"]).parse(reply["status"]) };
  }

  /** Cancels a job that has not finished. A leased job's worker loses its lease. */
  async cancel(jobId: string, reason = "cancelled by request"): Promise<{ previous: JobStatus }> {
    const id = validate(Id, jobId, "jobId");
    const reply = this.leaseReply(id, await this.run("cancel", [id, reason.slice(0, 500)]));
    return { previous: JobStatus.parse(reply["previous"]) };
  }

  /** The job's full record: status, attempts, timestamps, worker, lease, result or error, history. */
  async getJob(jobId: string): Promise<Job> {
    const parsedId = Id.safeParse(jobId);
    if (!parsedId.success) throw new JobNotFoundError(String(jobId).slice(0, 128));
    const raw = await runScript(this.redis, "get_job", [this.keys.job(parsedId.data)], []);
    const reply = parseJson(z.object({ fields: z.union([z.array(z.string()), z.object({})]), pttl: z.number() }), raw);
    if (!Array.isArray(reply.fields) || reply.fields.length === 0) throw new JobNotFoundError(parsedId.data);
    return parseJobHash(reply.fields, reply.pttl, this.now());
  }

  /** Per-queue counts, from indexes and stream metadata only (no job is scanned). */
  async stats(queueNames?: readonly string[]): Promise<QueueStats[]> {
    const queues = this.queues.claimOrder(queueNames);
    const args = queues.flatMap((q) => [q.name, Math.min(q.resultTtlMs, this.settings.maxJobTtlMs), Math.min(q.failureTtlMs, this.settings.maxJobTtlMs)]);
    const now = this.now();
    const reply = parseJson(StatsReply, await this.run("stats", args));
    return reply.map((s) => {
      const totals: Record<string, number> = {};
      for (let i = 0; i + 1 < s.counters.length; i += 2) totals[s.counters[i]!] = Number(s.counters[i + 1]);
      return {
        queue: s.queue,
        pending: s.pending,
        started: s.started,
        scheduled: s.scheduled,
        finished: s.finished,
        failed: s.failed,
        deferred: s.deferred,
        dlq: s.dlq,
        oldestPendingAgeMs: s.oldest_ready_at === false ? null : Math.max(0, now - s.oldest_ready_at),
        streamLength: s.stream_length,
        totals,
        byLevel: Object.fromEntries(PERMISSION_LEVELS.map((l) => [l, s.levels[l] ?? { pending: 0, started: 0 }])) as QueueStats["byLevel"],
      };
    });
  }

  /**
   * One pass of maintenance: reclaims expired leases, promotes due delayed jobs, expires jobs past
   * their queue TTL (unless `expire: false`: claims expire such jobs anyway, the scan keeps stats
   * honest) and (with `trim`) trims retention indexes. Loops while timers remain due, at
   * most `maxPasses` script runs, so a backlog is worked off without one long-running script.
   * When a recurring schedule's run has come, fires it (fireSchedules).
   */
  async tick(opts: { trim?: boolean; expire?: boolean; timersPerPass?: number; maxPasses?: number } = {}): Promise<TickResult> {
    const total: TickResult = { reclaimed: 0, promoted: 0, expired: 0, trimmed: 0, reconciled: 0, scheduled: [], scheduleFailures: [] };
    let schedulesDue = false;
    const queueArgs = this.queues.ordered.flatMap((q) => [
      q.name,
      q.ttlMs,
      Math.min(q.resultTtlMs, this.settings.maxJobTtlMs),
      Math.min(q.failureTtlMs, this.settings.maxJobTtlMs),
      this.settings.dlqRetentionMs,
    ]);
    const perPass = opts.timersPerPass ?? 200;
    for (let pass = 0; pass < (opts.maxPasses ?? 20); pass++) {
      const trim = pass === 0 && opts.trim === true ? "1" : "0";
      const expire = pass === 0 && opts.expire !== false ? "1" : "0";
      const raw = await this.run("tick", [Math.floor(this.random() * 1e9), perPass, trim, expire, this.settings.claimIdleMs, this.settings.requestRetentionMs, ...queueArgs]);
      const r = parseJson(TickReply, raw);
      total.reclaimed += r.reclaimed;
      total.promoted += r.promoted;
      total.expired += r.expired;
      total.trimmed += r.trimmed;
      total.reconciled += r.reconciled;
      schedulesDue ||= r.schedules_due;
      if (!r.more) break;
    }
    if (schedulesDue) {
      const fired = await this.fireSchedules();
      total.scheduled = fired.jobs;
      total.scheduleFailures = fired.failed;
    }
    return total;
  }

  // ── Recurring schedules ────────────────────────────────────────────────────────────────────

  /** Creates or replaces a recurring schedule (cron in UTC, the job each run enqueues). */
  putSchedule(input: ScheduleInput): Promise<{ schedule: Schedule; created: boolean }> {
    return putSchedule(this.ctx, input, (job) => void this.toSpec(job, this.now()));
  }

  /** Every recurring schedule, by name. */
  listSchedules(): Promise<Schedule[]> {
    return listSchedules(this.ctx);
  }

  /** One schedule; ScheduleNotFoundError when there is none of that name. */
  getSchedule(name: string): Promise<Schedule> {
    return getSchedule(this.ctx, name);
  }

  /** Removes a schedule (jobs it already enqueued stay); ScheduleNotFoundError when there is none. */
  deleteSchedule(name: string): Promise<void> {
    return deleteSchedule(this.ctx, name);
  }

  /** Enqueues the due runs of recurring schedules (the tick calls it when one is due). */
  fireSchedules(max = 100): Promise<FireReport> {
    return fireSchedules(this.ctx, (job) => specArgs(this.toSpec(job, this.now())), max);
  }
  // ── Dead-letter triage ─────────────────────────────────────────────────────────────────────

  /** A page of dead-lettered jobs, newest first, filtered by queue, reason, error text and time. */
  dlqList(opts?: DlqListOptions): Promise<DlqPage> {
    return dlqList(this.ctx, opts);
  }

  /** A page of one queue's jobs in one state (pending, active, scheduled, deferred, completed, failed). */
  listJobs(opts: ListJobsOptions): Promise<JobPage> {
    return listJobs(this.ctx, opts);
  }

  /** One dead-lettered job in full (payload, error with stack, attempts, history). */
  dlqGet(jobId: string): Promise<Job> {
    return dlqGet((id) => this.getJob(id), jobId);
  }

  /** Sends dead-lettered jobs back to their origin queue with fresh attempts; idempotent per job. */
  dlqReplay(ids: readonly string[], opts?: { payload?: unknown }): Promise<Array<{ id: string; outcome: ReplayOutcome }>> {
    return dlqReplay(this.ctx, ids, opts);
  }

  /** Deletes one dead-lettered job for good. */
  dlqPurge(jobId: string): Promise<void> {
    return dlqPurge(this.ctx, jobId, (id) => this.getJob(id));
  }

  /** Deletes every dead-lettered job of a queue (default: all queues). */
  dlqPurgeAll(queue?: string): Promise<{ purged: number }> {
    return dlqPurgeAll(this.ctx, queue);
  }

  // ── Callback outbox ────────────────────────────────────────────────────────────────────────

  /** Takes job callbacks queued by the scripts that finished the jobs (callbacks.ts); notify/callbacks.ts sends them. */
  takeCallbacks(opts?: TakeCallbacksOptions): Promise<{ callbacks: QueuedCallback[]; dropped: DroppedCallback[] }> {
    return takeCallbacks(this.ctx, opts);
  }

  /** Removes sent callbacks from the outbox. */
  settleCallbacks(entries: readonly string[]): Promise<number> {
    return settleCallbacks(this.ctx, entries);
  }

  // ── Worker ↔ controller messages ──────────────────────────────────────────────────────────

  /** A worker holding the job's lease asks its controller; the job is `waiting` until answered or expired. */
  async askQuestion(jobId: string, token: number, input: AskInput, opts: HolderOption = {}): Promise<WorkerRequestMessage> {
    const job = await this.getJob(jobId);
    const payload = job.payload as { task_id?: unknown } | null;
    const taskId = job.type === "work_order" && typeof payload?.task_id === "string" ? payload.task_id : job.id;
    return askQuestion(this.ctx, job.id, token, input, { workerId: job.worker ?? "unknown", taskId, holder: opts.holder ?? "" });
  }

  /** Open (default), answered or expired worker requests. */
  listRequests(opts?: { status?: RequestStatus; limit?: number }): Promise<Array<WorkerRequestMessage & { status: RequestStatus }>> {
    return listRequests(this.ctx, opts);
  }

  /** A controller's answer; wakes the waiting worker. */
  answerRequest(requestId: string, input: AnswerInput): Promise<ControllerResponseMessage> {
    return answerRequest(this.ctx, requestId, input);
  }

  /** The request's status and, once answered, the response. */
  getAnswer(requestId: string): Promise<RequestView> {
    return getAnswer(this.ctx, requestId);
  }

  /** Waits for the answer (blocking over TCP when given a blocking port, else polling) up to timeoutMs. */
  waitForAnswer(requestId: string, opts: { timeoutMs: number; blocking?: BlockingRedisPort }): Promise<RequestView> {
    return waitForAnswer(this.ctx, requestId, opts);
  }
}

/** A validated job resolved against its queue: what enqueue.lua stores (field names as in the record). */
interface JobSpec {
  id: string;
  /** The engine generated the id, so no job can exist under it. */
  fresh: boolean;
  queue: string;
  level: PermissionLevel;
  priority: string;
  type: string;
  payload: string;
  max_attempts: number;
  timeout_ms: number;
  ttl_ms: number;
  retry: string;
  result_ttl_ms: number;
  failure_ttl_ms: number;
  dlq_ttl_ms: number;
  run_at: number;
  callback_url: string;
  depends_on: string[];
  created_at: string;
}

/** A spec as enqueue.lua reads it: SPEC_WIDTH fields by position, then the dependency count and ids. */
function specArgs(s: JobSpec): Array<string | number> {
  return [s.id, s.fresh ? 1 : 0, s.queue, s.level, s.priority, s.type, s.payload, s.max_attempts, s.timeout_ms, s.ttl_ms, s.retry,
    s.result_ttl_ms, s.failure_ttl_ms, s.dlq_ttl_ms, s.run_at, s.callback_url, s.created_at, s.depends_on.length, ...s.depends_on];
}

const FailError = z.object({
  name: z.string().max(256).default("Error"),
  message: z.string().max(64 * 1024),
  stack: z.string().max(64 * 1024).nullable().optional(),
  code: z.string().max(128).optional(),
});

const StatsReply = z.array(
  z.object({
    queue: z.string(),
    pending: z.number(),
    started: z.number(),
    scheduled: z.number(),
    finished: z.number(),
    failed: z.number(),
    dlq: z.number(),
    deferred: z.number(),
    oldest_ready_at: z.union([z.number(), z.literal(false)]),
    stream_length: z.number(),
    counters: z.union([z.array(z.string()), z.object({})]).transform((c) => (Array.isArray(c) ? c : [])),
    levels: z.record(z.string(), z.object({ pending: z.number(), started: z.number() })),
  }),
);

const TickReply = z.object({ reclaimed: z.number(), promoted: z.number(), expired: z.number(), trimmed: z.number(), reconciled: z.number(), more: z.boolean(), schedules_due: z.boolean() });

