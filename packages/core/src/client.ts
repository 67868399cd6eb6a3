/**
 * The TypeScript SDK for producers and controllers: a typed `Queue` client over the engine that
 * works over TCP (`redis://`, `rediss://`) or Upstash's REST API, whichever the configuration names.
 * Workers use `Worker` (worker/worker.ts) instead.
 */
import { configFromEnv, type EngineSettingsInput, type RedisConnection } from "./config.ts";
import type { DlqListOptions, DlqPage, ReplayOutcome } from "./dlq.ts";
import type { JobPage, ListJobsOptions } from "./jobs-list.ts";
import type { Schedule, ScheduleInput } from "./schedules.ts";
import { WorkOrderOptions, workOrderRequest, type EnqueueRequestInput } from "./enqueue-request.ts";
import { Engine, type EnqueueResult, type QueueStats } from "./engine.ts";
import type { Job, JobStatus } from "./job.ts";
import { WorkOrderMessage, type ControllerResponseMessage, type WorkerRequestMessage, type WorkOrderMessageInput } from "./messages.ts";
import type { AnswerInput, RequestStatus, RequestView } from "./requests.ts";
import { connect } from "./transports/connect.ts";
import type { RedisPort } from "./transports/port.ts";
import { validate } from "./validate.ts";
import { WorkerRegistry, type WorkerStats } from "./worker/registry.ts";
import { AuditLog, auditedCall, type AuditEvent } from "./security/audit.ts";
import { scriptRunner } from "./security/runner.ts";
import { openAll, parseKeyring, sealFields, sealReplayPayload, type Keyring } from "./security/encryption.ts";
import { ValidationError } from "./errors.ts";

/** The keyring variable, as the API and the worker read it. */
const ENCRYPTION_KEYS_ENV = "WORKSTREAM_ENCRYPTION_KEYS";

/** Runs `fn` for item `i` of a batch, naming the item in a validation error (as the engine does). */
function withIndex<T>(i: number, size: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError && size > 1) throw new ValidationError(`jobs[${i}]: ${e.message}`, { ...e.details, index: i });
    throw e;
  }
}

/** Where to connect and how the engine is configured (what `configFromEnv()` returns). */
export interface QueueClientConfig {
  connection: RedisConnection;
  settings?: EngineSettingsInput;
  /** Worker registry record TTL; must match the workers'. Default 180 s. */
  registryTtlMs?: number;
  /**
   * Encrypts the payload fields a job lists as `sensitive` before they reach Redis, and opens them
   * in `status()` (the API's WORKSTREAM_ENCRYPTION_KEYS; `parseKeyring`). Without it, a job that
   * lists sensitive fields is refused (EncryptionUnavailableError), never stored in plain text.
   */
  keyring?: Keyring | null;
  /** Records this client's state-changing calls in the audit log as this principal (see QueueAuditOptions). */
  audit?: QueueAuditOptions | null;
}

/**
 * Audit of the SDK's state-changing calls (enqueue, cancel, DLQ replay/purge, answers, worker
 * suspend/resume), in the same log as the HTTP API's and the CLI's (`GET /v1/audit`), with status 0
 * (not over HTTP) and the outcome: "ok" or the error code the caller got.
 */
export interface QueueAuditOptions {
  /** Who acts, e.g. "billing-service" or "ops:alice". */
  principal: string;
  /**
   * Called when an audit entry could not be written; the call itself keeps its result (a job that
   * was enqueued stays enqueued). Default: one line on stderr.
   */
  onError?: (error: unknown, event: AuditEvent) => void;
}

/** A job to enqueue, with the payload paths (`payload.…`) to encrypt before it reaches Redis. */
export type SealableEnqueueInput = EnqueueRequestInput & { sensitive?: readonly string[] };

/** Work order delivery options, with the paths (`payload.…` or `metadata.…`) to encrypt. */
export type SealableWorkOrderOptions = WorkOrderOptions & { sensitive?: readonly string[] };

/**
 * A producer / controller client: enqueue, inspect, cancel, stats, the dead-letter queue and
 * worker questions.
 *
 * @example
 * const queue = Queue.connect({ connection: { kind: "tcp", url: "redis://127.0.0.1:6379" } });
 * const { id } = await queue.enqueue({ priority: "high", type: "debate", payload: { topic: "…" } });
 * console.log((await queue.status(id)).status); // "pending"
 * await queue.close();
 */
export class Queue {
  /** The engine underneath, for operations the client does not wrap. */
  readonly engine: Engine;
  readonly registry: WorkerRegistry;
  private readonly port: RedisPort;
  private readonly keyring: Keyring | null;
  private readonly audit: QueueAuditOptions | null;

  /**
   * Wraps an engine and the port it uses.
   *
   * @example
   * const port = tcpPort(url);
   * const queue = new Queue({ engine: new Engine({ redis: port }), redis: port });
   */
  constructor(opts: { engine: Engine; redis: RedisPort; registryTtlMs?: number; keyring?: Keyring | null; audit?: QueueAuditOptions | null }) {
    this.engine = opts.engine;
    this.port = opts.redis;
    this.keyring = opts.keyring ?? null;
    if (opts.audit && (typeof opts.audit.principal !== "string" || !/^\S{1,128}$/.test(opts.audit.principal))) {
      throw new ValidationError("audit.principal: 1-128 characters, no spaces", { path: ["audit", "principal"] });
    }
    this.audit = opts.audit ?? null;
    this.registry = new WorkerRegistry({ redis: opts.redis, keys: opts.engine.keys, ...(opts.registryTtlMs ? { ttlMs: opts.registryTtlMs } : {}) });
  }

  /**
   * Opens a client on the connection a configuration names (TCP or Upstash REST).
   *
   * @example
   * const queue = Queue.connect({ connection: { kind: "upstash", url: process.env.UPSTASH_REDIS_REST_URL!, token: process.env.UPSTASH_REDIS_REST_TOKEN! } });
   */
  static connect(config: QueueClientConfig): Queue {
    const redis = connect(config.connection);
    const engine = new Engine({ redis, ...(config.settings ? { settings: config.settings } : {}) });
    return new Queue({ engine, redis, ...(config.registryTtlMs ? { registryTtlMs: config.registryTtlMs } : {}), keyring: config.keyring ?? null, audit: config.audit ?? null });
  }

  /**
   * Opens a client configured from the environment (`WORKSTREAM_REDIS_URL` or the Upstash pair,
   * `WORKSTREAM_KEY_PREFIX`, …, and `WORKSTREAM_ENCRYPTION_KEYS` for sensitive fields). Throws a
   * ConfigError naming the variable at fault.
   *
   * @example
   * const queue = Queue.fromEnv();
   */
  static fromEnv(env: Record<string, string | undefined> = process.env): Queue {
    const { connection, settings } = configFromEnv(env);
    const keys = env[ENCRYPTION_KEYS_ENV];
    const keyring = keys ? parseKeyring(keys, ENCRYPTION_KEYS_ENV) : null;
    return Queue.connect({ connection, settings, keyring });
  }

  /** The request as stored: its sensitive paths sealed (refused without a keyring). */
  private sealed(input: SealableEnqueueInput): EnqueueRequestInput {
    const { sensitive = [], ...req } = input;
    return sealFields(req as EnqueueRequestInput, ["payload"], sensitive, this.keyring);
  }

  /**
   * Enqueues one job; idempotent on `id` (a second enqueue returns the existing job, created=false).
   *
   * @example
   * await queue.enqueue({ id: "debate-7", queue: "default", type: "debate", payload: { rounds: 3, apiKey }, sensitive: ["payload.apiKey"] });
   */
  async enqueue(input: SealableEnqueueInput): Promise<EnqueueResult> {
    return this.audited("enqueue", (r) => r.id, () => this.engine.enqueue(this.sealed(input)), (r) => ({ created: r.created }));
  }

  /**
   * Enqueues up to 1000 jobs in one round trip and one atomic script (all validated first).
   *
   * @example
   * const results = await queue.enqueueBatch(ids.map((id) => ({ id, payload: { n: id } })));
   */
  async enqueueBatch(inputs: readonly SealableEnqueueInput[]): Promise<EnqueueResult[]> {
    return this.audited("enqueueBatch", null, () => this.engine.enqueueBatch(inputs.map((input, i) => withIndex(i, inputs.length, () => this.sealed(input)))), (r) => ({
      count: r.length,
      created: r.filter((x) => x.created).length,
      ids: r.slice(0, 50).map((x) => x.id),
    }));
  }

  /**
   * Enqueues a seed work order: its work_order_id is the job id, its priority picks the queue,
   * its permission level limits who may claim it.
   *
   * @example
   * await queue.enqueueWorkOrder({ id, task_id, work_order_id, task_type: "bugfix", permission_level: "supervised",
   *   priority: "high", repository_url, branch_name: "fix/42", title: "Fix #42", description: "…", created_at: new Date().toISOString() },
   *   { callbackUrl: "https://example.com/hooks/workstream" });
   */
  async enqueueWorkOrder(workOrder: WorkOrderMessageInput, options: SealableWorkOrderOptions = {}): Promise<EnqueueResult> {
    const { sensitive = [], ...delivery } = options;
    return this.audited("enqueue", (r) => r.id, () => {
      const wo = validate(WorkOrderMessage.strict(), workOrder, "workOrder");
      const sealed = sealFields(wo, ["payload", "metadata"], sensitive, this.keyring);
      return this.engine.enqueue(workOrderRequest(sealed, validate(WorkOrderOptions, delivery, "options")));
    }, (r) => ({ created: r.created, workOrder: true }));
  }

  /**
   * Creates or replaces a recurring schedule: at each run of `cron` (five fields in UTC, or
   * @hourly/@daily/@weekly/@monthly/@yearly) the maintenance tick enqueues `job` with the id
   * `<name>:<run ms>`. Resolves created=false when it replaced one of that name. `sensitive`
   * (paths into the job, `payload.…`) are encrypted once, here: stored and enqueued sealed.
   *
   * @example
   * await queue.putSchedule({ name: "nightly-report", cron: "0 2 * * *", job: { type: "report", payload: { scope: "all" }, priority: "low" } });
   */
  putSchedule(input: ScheduleInput & { sensitive?: readonly string[] }): Promise<{ schedule: Schedule; created: boolean }> {
    return this.audited("schedulesPut", null, () => {
      const { sensitive = [], ...rest } = input;
      return this.engine.putSchedule({ ...rest, job: sealFields(rest.job, ["payload"], sensitive, this.keyring, "job") });
    }, (r) => ({ name: r.schedule.name, cron: r.schedule.cron, created: r.created }));
  }

  /**
   * Every recurring schedule, by name, with its next and last run.
   *
   * @example
   * for (const s of await queue.listSchedules()) console.log(s.name, s.nextRunAt);
   */
  listSchedules(): Promise<Schedule[]> {
    return this.engine.listSchedules();
  }

  /**
   * Deletes a recurring schedule (the jobs it already enqueued stay). Rejects with
   * ScheduleNotFoundError when there is none of that name.
   *
   * @example
   * await queue.deleteSchedule("nightly-report");
   */
  deleteSchedule(name: string): Promise<void> {
    return this.audited("schedulesDelete", null, () => this.engine.deleteSchedule(name), () => ({ name }));
  }

  /**
   * A page of one queue's jobs in one state: pending, active (leased), scheduled (delayed or
   * retrying), deferred, completed or failed (newest first for the last two). Rows are summaries;
   * `status()` has the payload, result and history.
   *
   * @example
   * let page = await queue.listJobs({ queue: "default", state: "failed", limit: 20 });
   * while (page.nextCursor) page = await queue.listJobs({ queue: "default", state: "failed", cursor: page.nextCursor });
   */
  listJobs(opts: ListJobsOptions): Promise<JobPage> {
    return this.engine.listJobs(opts);
  }

  /**
   * The job's full record: status, attempts, worker, timestamps, progress, result or error, history.
   * With a keyring, sensitive payload fields come back decrypted (those sealed with a key it lacks
   * stay sealed). Rejects with JobNotFoundError.
   *
   * @example
   * const job = await queue.status("debate-7");
   * if (job.status === "completed") console.log(job.result);
   */
  async status(jobId: string): Promise<Job> {
    const job = await this.engine.getJob(jobId);
    return this.keyring ? { ...job, payload: openAll(job.payload, this.keyring).value } : job;
  }

  /**
   * Cancels a job that has not finished (a running job's worker loses its lease).
   *
   * @example
   * const { previous } = await queue.cancel("debate-7", "superseded");
   */
  cancel(jobId: string, reason?: string): Promise<{ previous: JobStatus }> {
    return this.audited("cancelJob", jobId, () => this.engine.cancel(jobId, reason), (r) => ({ previous: r.previous }));
  }

  /**
   * Per-queue stats (pending, started, finished, failed, deferred, scheduled, DLQ depth, oldest age).
   *
   * @example
   * for (const s of await queue.stats()) console.log(s.queue, s.pending);
   */
  stats(queues?: readonly string[]): Promise<QueueStats[]> {
    return this.engine.stats(queues);
  }

  /**
   * The seed's worker stats: `{ total, idle, busy, suspended, workers: [...] }` from the registry.
   *
   * @example
   * const { total, busy } = await queue.workerStats();
   */
  workerStats(): Promise<WorkerStats> {
    return this.registry.workerStats();
  }

  /**
   * Suspends a worker (it finishes what it holds, claims nothing new). Resolves false if unknown.
   *
   * @example
   * await queue.suspendWorker("ip-10-0-1-5-1-a1b2c3");
   */
  suspendWorker(workerId: string): Promise<boolean> {
    return this.audited("workerSuspend", null, () => this.registry.suspendWorker(workerId), (found) => ({ workerId, found }));
  }

  /**
   * Resumes a suspended worker. Resolves false if unknown.
   *
   * @example
   * await queue.resumeWorker("ip-10-0-1-5-1-a1b2c3");
   */
  resumeWorker(workerId: string): Promise<boolean> {
    return this.audited("workerResume", null, () => this.registry.resumeWorker(workerId), (found) => ({ workerId, found }));
  }

  /**
   * Lists dead-lettered jobs (filter by queue, reason, error text or fingerprint, time; paginated).
   *
   * @example
   * const page = await queue.dlqList({ queue: "default", limit: 20 });
   */
  dlqList(opts?: DlqListOptions): Promise<DlqPage> {
    return this.engine.dlqList(opts);
  }

  /**
   * One dead-lettered job in full (payload, error with stack, attempts, history).
   *
   * @example
   * const job = await queue.dlqGet("debate-7");
   */
  async dlqGet(jobId: string): Promise<Job> {
    const job = await this.engine.dlqGet(jobId);
    return this.keyring ? { ...job, payload: openAll(job.payload, this.keyring).value } : job;
  }

  /**
   * Replays dead-lettered jobs to their origin queue with fresh attempts (optionally a new payload,
   * for exactly one id). An edited payload is stored sealed where the stored one was (a payload
   * read with dlqGet, edited and replayed stays encrypted), or at `sensitive` (paths into
   * `{payload}`) when given.
   *
   * @example
   * await queue.dlqReplay(["debate-7"], { payload: { rounds: 2 } });
   */
  async dlqReplay(ids: readonly string[], opts: { payload?: unknown; sensitive?: readonly string[] } = {}): Promise<Array<{ id: string; outcome: ReplayOutcome }>> {
    return this.audited("dlqReplay", ids.length === 1 ? ids[0]! : null, async () => {
      if (opts.payload === undefined) {
        if (opts.sensitive !== undefined) throw new ValidationError("sensitive needs an edited payload", { path: ["sensitive"] });
        return this.engine.dlqReplay(ids);
      }
      if (ids.length !== 1) throw new ValidationError("an edited payload replays exactly one job", { path: ["payload"] });
      const stored = opts.sensitive === undefined ? (await this.engine.getJob(ids[0]!).catch(() => null))?.payload : undefined;
      return this.engine.dlqReplay(ids, { payload: sealReplayPayload(stored, opts.payload, opts.sensitive, this.keyring) });
    }, (r) => ({ results: r.slice(0, 50), payloadEdited: opts.payload !== undefined }));
  }

  /**
   * Deletes one dead-lettered job for good.
   *
   * @example
   * await queue.dlqPurge("debate-7");
   */
  dlqPurge(jobId: string): Promise<void> {
    return this.audited("dlqPurgeOne", jobId, () => this.engine.dlqPurge(jobId));
  }

  /**
   * Deletes every dead-lettered job of a queue (default: all queues).
   *
   * @example
   * const { purged } = await queue.dlqPurgeAll("low_priority");
   */
  dlqPurgeAll(queue?: string): Promise<{ purged: number }> {
    return this.audited("dlqPurgeAll", null, () => this.engine.dlqPurgeAll(queue), (r) => ({ queue: queue ?? null, purged: r.purged }));
  }

  /**
   * Worker questions: open (default), answered or expired.
   *
   * @example
   * for (const r of await queue.listRequests()) console.log(r.id, r.message);
   */
  listRequests(opts?: { status?: RequestStatus; limit?: number }): Promise<Array<WorkerRequestMessage & { status: RequestStatus }>> {
    return this.engine.listRequests(opts);
  }

  /**
   * Answers a worker's question; the waiting worker is woken.
   *
   * @example
   * await queue.answerRequest(requestId, { responseType: "approval", message: "go ahead", generatedBy: "human", responderId: "ana" });
   */
  answerRequest(requestId: string, input: AnswerInput): Promise<ControllerResponseMessage> {
    return this.audited("answerRequest", (r) => r.work_order_id, () => this.engine.answerRequest(requestId, input), () => ({ requestId }));
  }

  /**
   * A request's status and, once answered, the response.
   *
   * @example
   * const { status, response } = await queue.getAnswer(requestId);
   */
  getAnswer(requestId: string): Promise<RequestView> {
    return this.engine.getAnswer(requestId);
  }

  /**
   * Records an operation in the audit log. The HTTP API records every request itself; other
   * clients that act on a principal's behalf (the CLI) record theirs with this.
   *
   * @example
   * await queue.recordAudit({ principal: "cli:ops@host", keyId: null, action: "dlqReplay", jobId: "j-1", outcome: "ok", status: 0 });
   */
  recordAudit(event: AuditEvent): Promise<void> {
    return new AuditLog(scriptRunner(this.port, this.engine.keys.prefix, Date.now), this.engine.keys).append(event);
  }

  /**
   * Runs a state-changing call and, with `audit` set, records it: "ok" with `details`, or the error
   * code the caller got (the error is rethrown). Without `audit`, just the call.
   */
  private audited<T>(
    action: string,
    jobId: string | null | ((r: T) => string | null),
    fn: () => Promise<T>,
    details?: (r: T) => Record<string, unknown>,
  ): Promise<T> {
    const audit = this.audit;
    if (!audit) return fn();
    return auditedCall(
      { principal: audit.principal, action, jobId, ...(details && { details }), record: (e) => this.recordAudit(e), onRecordError: audit.onError ?? defaultAuditError },
      fn,
    );
  }

  /**
   * Closes the connection.
   *
   * @example
   * await queue.close();
   */
  close(): Promise<void> {
    return this.port.close();
  }
}

function defaultAuditError(error: unknown, event: AuditEvent): void {
  console.error(`workstream: audit entry for ${event.action} (${event.outcome}) was not written: ${error instanceof Error ? error.message : String(error)}`);
}
