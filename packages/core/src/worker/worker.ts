/**
 * The Worker runtime: a long-running process (Fargate task, local run) that claims jobs over TCP,
 * runs a handler for each with a bounded concurrency, keeps their leases alive with heartbeats,
 * and acks or fails them. It never polls: when there is nothing to claim it blocks on the ready
 * streams (XREAD BLOCK) until an entry arrives or the next timer it knows of is due. A wait that
 * times out with nothing new is simply renewed (one command); the worker claims again only when an
 * entry arrived, a timer is due, or every `reclaimEveryMs` (5 min) as a safety net for timers it
 * could not know of when no maintenance runs.
 *
 * Idle cost: one `XREAD BLOCK` a minute, one registry beat a minute, and one claim every 5 minutes:
 * 2.2 client commands a minute (see docs/worker.md for the calls inside the scripts, which Upstash
 * also bills). Busy: the ack of each job also leases the slot's next one (one round trip per job),
 * and free slots are filled with one batch claim.
 *
 * Shutdown (`stop()`, SIGTERM in the process entry): stop claiming, let in-flight jobs finish
 * within the grace period, release the rest with their lease (the attempt is not counted),
 * deregister. A second `stop()` skips the rest of the grace period.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { z } from "zod";
import type { ClaimedJob, Engine, Lease } from "../engine.ts";
import { JobNotFoundError, LeaseLostError, RetryAfterError, WorkstreamError } from "../errors.ts";
import { keySpace } from "../keys.ts";
import { Id, PermissionLevel } from "../messages.ts";
import type { AskInput, RequestView } from "../requests.ts";
import { classifyError } from "../retry.ts";
import { runScript } from "../scripts.ts";
import type { BlockingRedisPort } from "../transports/port.ts";
import { jsonLogger, type WorkerLogger } from "./logger.ts";
import { REGISTRY_DEFAULTS, WorkerRegistry, type WorkerState } from "./registry.ts";

/** The job ran past its timeout: its signal is aborted and the attempt fails (retryable). */
export class TimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(jobId: string, timeoutMs: number) {
    super(`job "${jobId}" ran past its timeout of ${timeoutMs} ms`);
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** The abort reason a handler sees when its worker shuts down and gives the job back. */
export class WorkerShutdownError extends Error {
  constructor(jobId: string) {
    super(`worker is shutting down: job "${jobId}" was released`);
    this.name = "WorkerShutdownError";
  }
}

/** What a handler may do besides returning a result or throwing. */
export interface JobContext {
  /** Aborted when the lease is lost (reclaimed, cancelled), the job times out, or the worker stops before it finished. The reason says which. */
  readonly signal: AbortSignal;
  /** 1 for the first run, 2 for the first retry… */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The current lease; `expiresAt` moves forward with every heartbeat. */
  readonly lease: Readonly<Lease>;
  readonly workerId: string;
  readonly logger: WorkerLogger;
  /**
   * Extends the lease now and records progress (any JSON) on the job. The runtime already
   * heartbeats at a third of the lease length; call this to report progress. Rejects with
   * LeaseLostError when the job is no longer this worker's.
   */
  heartbeat(progress?: unknown): Promise<void>;
  /**
   * Asks the job's controller a question (clarification / approval / question) and waits for the
   * answer (or its expiry). The job is `waiting` meanwhile; its lease is still kept alive.
   * Present when the engine supports worker ↔ controller messages.
   */
  ask?: (input: AskInput, opts?: { timeoutMs?: number }) => Promise<RequestView>;
}

/** A job handler: resolve with the result (any JSON) or throw (NonRetryableError, RetryAfterError or any error). */
export type JobHandler = (job: ClaimedJob, ctx: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  engine: Engine;
  /** A TCP port: the worker blocks on it while idle. */
  redis: BlockingRedisPort;
  handler: JobHandler;
  /** Queues to take work from, drained in strict priority order. Default: all configured queues. */
  queues?: readonly string[];
  /** Levels this worker may claim. Default: autonomous only. */
  permissionLevels?: readonly PermissionLevel[];
  /** Jobs run at once (seed 2's max_concurrent), 1..1000. Default 1. */
  concurrency?: number;
  /** Stream consumer name and registry id. Default: host-pid-random. */
  workerId?: string;
  /** Lease asked for at claim and renewed by each heartbeat (every third of it). Default: engine.settings.claimIdleMs. */
  leaseMs?: number;
  /** How long stop() lets in-flight jobs finish before releasing them. Default 110 s (ECS allows 120 s). */
  shutdownGraceMs?: number;
  logger?: WorkerLogger;
  /** Registry beat interval. Default 30 s. */
  registryBeatMs?: number;
  /** Registry record TTL. Default 90 s; must exceed the beat interval. */
  registryTtlMs?: number;
  /** Longest single blocking wait while idle. Default 60 s. */
  maxWaitMs?: number;
  /** An idle worker claims at least this often even when nothing woke it. Default 5 min. */
  reclaimEveryMs?: number;
  /** How long a handler that ignores its aborted signal keeps its concurrency slot. Default 10 s. */
  abandonAfterMs?: number;
  /** Opens a dedicated blocking connection for `ctx.ask` waits (closed after each). Without it, answers are polled once a second. */
  openBlocking?: () => BlockingRedisPort;
}

const Settings = z
  .object({
    permissionLevels: z.array(PermissionLevel).min(1).default(["autonomous"]),
    concurrency: z.number().int().min(1).max(1000).default(1),
    workerId: Id.optional(),
    leaseMs: z.number().int().min(1000).optional(),
    shutdownGraceMs: z.number().int().min(0).max(86_400_000).default(110_000),
    registryBeatMs: z.number().int().min(100).default(REGISTRY_DEFAULTS.beatMs),
    registryTtlMs: z.number().int().min(1000).default(REGISTRY_DEFAULTS.ttlMs),
    maxWaitMs: z.number().int().min(10).max(300_000).default(60_000),
    reclaimEveryMs: z.number().int().min(10).max(3_600_000).default(300_000),
    abandonAfterMs: z.number().int().min(0).default(10_000),
  })
  .refine((s) => s.registryTtlMs > s.registryBeatMs, { message: "registryTtlMs must exceed registryBeatMs", path: ["registryTtlMs"] });

/** Local counters of one worker, the seed's `get_stats()` plus what the idle-cost figures come from. */
export interface LocalWorkerStats {
  worker_id: string;
  state: WorkerState | "stopping" | "stopped";
  active_jobs: number;
  jobs_processed: number;
  jobs_failed: number;
  uptime_seconds: number;
  queues: string[];
  /** Blocking waits made while idle. */
  waits: number;
  /** claim calls made. */
  claims: number;
}

type Phase = "running" | "settling" | "lost" | "released" | "done";

interface Running {
  job: ClaimedJob;
  lease: Lease;
  controller: AbortController;
  phase: Phase;
  finishing: Promise<void>;
  interrupted: Promise<void>;
  interrupt: () => void;
  hbTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  /** Jobs the ack leased for this slot (ack-and-claim-next). */
  next?: Array<{ job: ClaimedJob; lease: Lease }>;
}

const MIN_WAIT_MS = 50;
const CALL_ATTEMPTS = 30;
const RELEASE_ATTEMPTS = 5;
const STOP_LOOP_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const backoffMs = (n: number) => Math.floor(Math.min(5000, 100 * 2 ** Math.min(n, 6)) * (0.5 + Math.random() / 2));
const transient = (e: unknown) => !(e instanceof WorkstreamError);
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

/**
 * A handler bundled with its own copy of @workstream/core throws error classes `instanceof` cannot
 * see: recognise RetryAfterError by name and shape (NonRetryableError is already classified by name).
 */
function sameRealm(thrown: unknown): unknown {
  if (thrown instanceof RetryAfterError || !(thrown instanceof Error) || thrown.name !== "RetryAfterError") return thrown;
  const ms = (thrown as Error & { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof ms !== "number" || !Number.isFinite(ms)) return thrown;
  const copy = new RetryAfterError(thrown.message, ms, { cause: thrown });
  if (thrown.stack) copy.stack = thrown.stack;
  return copy;
}

function defaultWorkerId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._\-]/g, "-").slice(0, 64) || "host";
  return `${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** A one-shot signal that can be awaited many times. */
function latch(): { promise: Promise<void>; fire: () => void; fired: () => boolean } {
  let fire!: () => void;
  let done = false;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire: () => ((done = true), fire()), fired: () => done };
}

/**
 * Runs jobs from the queue with a handler.
 *
 * @example
 * const port = tcpPort(process.env.WORKSTREAM_REDIS_URL!);
 * const engine = new Engine({ redis: port });
 * const worker = new Worker({
 *   engine,
 *   redis: port,
 *   concurrency: 3,
 *   handler: async (job, ctx) => {
 *     await ctx.heartbeat({ step: "cloning" });
 *     return { ok: true };
 *   },
 * });
 * await worker.start();
 * process.once("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
 */
export class Worker {
  readonly workerId: string;
  readonly queues: readonly string[];
  readonly permissionLevels: readonly PermissionLevel[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly registry: WorkerRegistry;
  private readonly engine: Engine;
  private readonly redis: BlockingRedisPort;
  private readonly handler: JobHandler;
  private readonly logger: WorkerLogger;
  private readonly settings: z.infer<typeof Settings>;
  private readonly openBlocking: (() => BlockingRedisPort) | undefined;
  private readonly active = new Map<string, Running>();
  private readonly readyStreams: string[];
  private readonly streamPairs: Array<{ queue: string; level: PermissionLevel }>;
  private readonly workerKey: string;
  private readonly controlKey: string;
  private startedAt = 0;
  private processed = 0;
  private failed = 0;
  private waits = 0;
  private claims = 0;
  private suspended = false;
  private stopping = false;
  private stopped = false;
  private stopPromise: Promise<void> | undefined;
  private readonly stopLatch = latch();
  private readonly hardLatch = latch();
  private slotWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();
  private beatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(opts: WorkerOptions) {
    const s = Settings.safeParse({
      permissionLevels: opts.permissionLevels,
      concurrency: opts.concurrency,
      workerId: opts.workerId,
      leaseMs: opts.leaseMs,
      shutdownGraceMs: opts.shutdownGraceMs,
      registryBeatMs: opts.registryBeatMs,
      registryTtlMs: opts.registryTtlMs,
      maxWaitMs: opts.maxWaitMs,
      reclaimEveryMs: opts.reclaimEveryMs,
      abandonAfterMs: opts.abandonAfterMs,
    });
    if (!s.success) {
      const i = s.error.issues[0]!;
      throw new RangeError(`worker option ${i.path.join(".")}: ${i.message}`);
    }
    this.settings = s.data;
    this.engine = opts.engine;
    this.redis = opts.redis;
    this.handler = opts.handler;
    this.logger = opts.logger ?? jsonLogger();
    this.openBlocking = opts.openBlocking;
    this.workerId = s.data.workerId ?? defaultWorkerId();
    this.queues = opts.engine.queues.claimOrder(opts.queues).map((q) => q.name);
    this.permissionLevels = [...new Set(s.data.permissionLevels)];
    this.concurrency = s.data.concurrency;
    this.leaseMs = s.data.leaseMs ?? opts.engine.settings.claimIdleMs;
    this.registry = new WorkerRegistry({ redis: opts.redis, keys: opts.engine.keys, ttlMs: s.data.registryTtlMs });
    const keys = keySpace(opts.engine.keys.prefix);
    this.streamPairs = this.queues.flatMap((queue) => this.permissionLevels.map((level) => ({ queue, level })));
    this.readyStreams = this.streamPairs.map((p) => keys.ready(p.queue, p.level));
    this.workerKey = keys.worker(this.workerId);
    this.controlKey = keys.workerControl(this.workerId);
  }

  /** Registers the worker (one beat; rejects when Redis is unreachable) and starts claiming. */
  async start(): Promise<void> {
    if (this.startedAt) throw new Error("worker already started");
    this.startedAt = Date.now();
    const { suspended } = await this.registry.beat(this.beatRecord());
    this.suspended = suspended;
    this.scheduleBeat();
    this.loopDone = this.loop().catch((e: unknown) => this.logger.error("claim loop crashed", { error: e }));
    this.logger.info("worker started", {
      workerId: this.workerId,
      queues: this.queues,
      permissionLevels: this.permissionLevels,
      concurrency: this.concurrency,
      leaseMs: this.leaseMs,
    });
  }

  /**
   * Stops gracefully: claims nothing more, waits up to `graceMs` (default: shutdownGraceMs) for
   * in-flight jobs, releases the rest with their lease (the attempt is not counted), deregisters.
   * Calling it again while stopping skips the rest of the grace period. Resolves when done.
   */
  stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.stopPromise) {
      this.hardLatch.fire();
      return this.stopPromise;
    }
    this.stopping = true;
    this.stopLatch.fire();
    this.wakeSlotWaiters();
    const grace = opts.graceMs ?? this.settings.shutdownGraceMs;
    this.logger.info("worker stopping", { workerId: this.workerId, activeJobs: this.active.size, graceMs: grace });
    this.stopPromise = this.shutdown(grace);
    return this.stopPromise;
  }

  /** This worker's own counters (the registry holds every worker's). */
  stats(): LocalWorkerStats {
    return {
      worker_id: this.workerId,
      state: this.stopped ? "stopped" : this.stopping ? "stopping" : this.state(),
      active_jobs: this.active.size,
      jobs_processed: this.processed,
      jobs_failed: this.failed,
      uptime_seconds: this.startedAt ? Math.floor((Date.now() - this.startedAt) / 1000) : 0,
      queues: [...this.queues],
      waits: this.waits,
      claims: this.claims,
    };
  }

  private state(): WorkerState {
    if (this.suspended) return "suspended";
    return this.active.size > 0 ? "busy" : "idle";
  }

  private beatRecord() {
    return {
      workerId: this.workerId,
      state: this.state(),
      queues: this.queues,
      permissionLevels: this.permissionLevels,
      concurrency: this.concurrency,
      activeJobs: this.active.size,
      jobsProcessed: this.processed,
      jobsFailed: this.failed,
      startedAt: this.startedAt,
    };
  }

  private scheduleBeat(): void {
    this.beatTimer = setTimeout(() => {
      this.beating = this.registry
        .beat(this.beatRecord())
        .then(({ suspended }) => this.setSuspended(suspended))
        .catch((e: unknown) => this.logger.warn("registry beat failed", { error: e }))
        .finally(() => {
          if (!this.stopped) this.scheduleBeat();
        });
    }, this.settings.registryBeatMs);
  }

  // ── claiming ──────────────────────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    // Read the suspended flag (stream_tips) before the first claim, after a wake-up on the control
    // stream, and while suspended; otherwise claims go straight out.
    let checkSuspension = true;
    let errors = 0;
    while (!this.stopping) {
      const free = this.concurrency - this.active.size;
      if (free <= 0) {
        await this.slotFree();
        continue;
      }
      try {
        if (checkSuspension || this.suspended) {
          const t = await this.streamTips();
          this.setSuspended(t.suspended);
          checkSuspension = false;
          if (this.suspended) {
            // Claim nothing; wake on the control stream (resume) or after the longest wait.
            await this.wait([{ key: this.controlKey, afterId: t.tips[0]! }], this.settings.maxWaitMs);
            checkSuspension = true;
            continue;
          }
        }
        if (this.stopping) break;
        this.claims++;
        const res = await this.engine.claimBatch({
          workerId: this.workerId,
          queues: this.queues,
          permissionLevels: this.permissionLevels,
          leaseMs: this.leaseMs,
          count: Math.min(free, 100),
          tipsFor: [this.controlKey],
        });
        errors = 0;
        if (res.jobs.length > 0) {
          for (const c of res.jobs) {
            if (this.stopping) await this.releaseClaimed(c.job, c.lease);
            else this.startJob(c.job, c.lease);
          }
          continue;
        }
        // Nothing claimable: block until something is appended after this claim (the tips come from
        // the same atomic script, so nothing is slept through). A wait that times out with nothing
        // new is renewed: no job becomes claimable without a new entry unless a timer falls due.
        const streams = res.tips ?? [];
        const claimedAt = Date.now();
        for (let renewals = 0; renewals < 10_000 && !this.stopping; renewals++) {
          const arrived = await this.wait(streams, this.waitTimeout(res.nextTimerAt, claimedAt));
          if (arrived.includes(this.controlKey)) checkSuspension = true;
          const now = Date.now();
          if (arrived.length > 0 || (res.nextTimerAt !== null && now >= res.nextTimerAt) || now - claimedAt >= this.settings.reclaimEveryMs) break;
        }
      } catch (e) {
        if (this.stopping) break;
        errors++;
        const delay = backoffMs(errors);
        this.logger.warn("claim loop error; retrying", { error: e, attempt: errors, delayMs: delay });
        await Promise.race([sleep(delay), this.stopLatch.promise]);
      }
    }
  }

  private setSuspended(suspended: boolean): void {
    if (suspended !== this.suspended) this.logger.info(suspended ? "worker suspended" : "worker resumed", { workerId: this.workerId });
    this.suspended = suspended;
  }

  private waitTimeout(nextTimerAt: number | null, claimedAt: number): number {
    const now = Date.now();
    let t = Math.min(this.settings.maxWaitMs, claimedAt + this.settings.reclaimEveryMs - now);
    if (nextTimerAt !== null) t = Math.min(t, nextTimerAt - now + 5);
    return Math.max(MIN_WAIT_MS, t);
  }

  /** Blocks until entries arrive on `streams` (their keys), the timeout passes or the worker stops ([]). */
  private async wait(streams: ReadonlyArray<{ key: string; afterId: string }>, timeoutMs: number): Promise<string[]> {
    this.waits++;
    const waiting = this.redis.waitForEntries(streams, timeoutMs);
    waiting.catch(() => {}); // abandoned on stop: a later connection error must not go unhandled
    return await Promise.race([waiting, this.stopLatch.promise.then(() => [])]);
  }

  private async streamTips(): Promise<{ tips: string[]; suspended: boolean }> {
    const raw = await runScript(this.redis, "stream_tips", [this.workerKey, this.controlKey, ...this.readyStreams], []);
    const r = z.object({ tips: z.array(z.string()), suspended: z.boolean() }).parse(JSON.parse(raw));
    return r;
  }

  private slotFree(): Promise<void> {
    if (this.stopping || this.active.size < this.concurrency) return Promise.resolve();
    return new Promise((r) => this.slotWaiters.push(r));
  }

  private wakeSlotWaiters(): void {
    const w = this.slotWaiters;
    this.slotWaiters = [];
    for (const f of w) f();
  }

  // ── running a job ─────────────────────────────────────────────────────────────────────────

  private startJob(job: ClaimedJob, lease: Lease): void {
    let interrupt!: () => void;
    const interrupted = new Promise<void>((r) => (interrupt = r));
    const r: Running = {
      job,
      lease: { ...lease },
      controller: new AbortController(),
      phase: "running",
      finishing: Promise.resolve(),
      interrupted,
      interrupt,
    };
    this.active.set(job.id, r);
    this.logger.debug("job started", { jobId: job.id, attempt: job.attempt, token: lease.token });
    void this.runJob(r).catch((e: unknown) => this.logger.error("job runner crashed", { jobId: job.id, error: e }));
  }

  /** Moves a running job to another phase exactly once; `work` is what that phase must do. */
  private transition(r: Running, to: Exclude<Phase, "running" | "done">, work: () => Promise<void>): boolean {
    if (r.phase !== "running") return false;
    r.phase = to;
    clearTimeout(r.timeoutTimer);
    r.finishing = work().catch((e: unknown) => this.logger.error("job settle failed", { jobId: r.job.id, error: e }));
    r.interrupt();
    return true;
  }

  private async runJob(r: Running): Promise<void> {
    const { job } = r;
    this.scheduleHeartbeat(r);
    if (job.timeoutMs > 0) {
      r.timeoutTimer = setTimeout(() => {
        const err = new TimeoutError(job.id, job.timeoutMs);
        this.transition(r, "settling", async () => {
          r.controller.abort(err);
          this.logger.warn("job timed out", { jobId: job.id, timeoutMs: job.timeoutMs });
          await this.settleFail(r, err);
        });
      }, Math.min(job.timeoutMs, 2 ** 31 - 1));
    }
    const ctx = this.context(r);
    const handled = (async () => this.handler(job, ctx))().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const first = await Promise.race([handled, r.interrupted.then(() => null)]);
    if (first) {
      this.transition(r, "settling", () => (first.ok ? this.settleAck(r, first.value) : this.settleFail(r, first.error)));
    }
    await r.finishing;
    const abandoned = r.phase === "lost" || r.phase === "released" || r.controller.signal.aborted;
    r.phase = "done";
    clearTimeout(r.hbTimer);
    clearTimeout(r.timeoutTimer);
    if (abandoned && !first) {
      // The handler was told to stop; give it a bounded time to return before its slot is reused.
      await Promise.race([handled, sleep(this.settings.abandonAfterMs), this.hardLatch.promise]);
    }
    this.active.delete(job.id);
    for (const n of r.next ?? []) {
      if (this.stopping) await this.releaseClaimed(n.job, n.lease);
      else this.startJob(n.job, n.lease);
    }
    this.wakeSlotWaiters();
  }

  private context(r: Running): JobContext {
    const { job } = r;
    const engine = this.engine;
    const ctx: JobContext = {
      signal: r.controller.signal,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      lease: r.lease,
      workerId: this.workerId,
      logger: this.logger,
      heartbeat: async (progress?: unknown) => {
        if (r.controller.signal.aborted) throw r.controller.signal.reason;
        try {
          const { leaseExpiresAt } = await engine.heartbeat(job.id, r.lease.token, progress === undefined ? {} : { progress });
          r.lease.expiresAt = leaseExpiresAt;
        } catch (e) {
          if (e instanceof LeaseLostError || e instanceof JobNotFoundError) this.lose(r, e);
          throw e;
        }
      },
    };
    if (typeof engine.askQuestion === "function" && typeof engine.waitForAnswer === "function") {
      ctx.ask = async (input, opts = {}) => {
        const request = await engine.askQuestion(job.id, r.lease.token, input);
        const timeoutMs = opts.timeoutMs ?? Math.max(0, Date.parse(request.expires_at) - Date.now() + 1000);
        const blocking = this.openBlocking?.();
        const aborted = new Promise<never>((_, reject) => {
          const onAbort = () => reject(r.controller.signal.reason);
          if (r.controller.signal.aborted) onAbort();
          else r.controller.signal.addEventListener("abort", onAbort, { once: true });
        });
        try {
          return await Promise.race([engine.waitForAnswer(request.id, { timeoutMs, ...(blocking ? { blocking } : {}) }), aborted]);
        } finally {
          void blocking?.close();
        }
      };
    }
    return ctx;
  }

  private scheduleHeartbeat(r: Running, delay = Math.max(100, Math.floor(this.leaseMs / 3))): void {
    r.hbTimer = setTimeout(() => void this.heartbeat(r), delay);
  }

  private async heartbeat(r: Running): Promise<void> {
    if (r.phase !== "running" && r.phase !== "settling") return;
    const interval = Math.max(100, Math.floor(this.leaseMs / 3));
    let next = interval;
    try {
      const { leaseExpiresAt } = await this.engine.heartbeat(r.job.id, r.lease.token);
      r.lease.expiresAt = leaseExpiresAt;
    } catch (e) {
      if (e instanceof LeaseLostError || e instanceof JobNotFoundError) {
        this.lose(r, e);
        return;
      }
      next = Math.min(interval, 1000);
      this.logger.warn("heartbeat failed; retrying", { jobId: r.job.id, error: e, retryInMs: next });
    }
    if (r.phase === "running" || r.phase === "settling") this.scheduleHeartbeat(r, next);
  }

  /** The lease is gone (reclaimed after a stall, cancelled): stop the handler and drop the job. */
  private lose(r: Running, reason: Error): void {
    this.transition(r, "lost", async () => {
      this.logger.warn("lease lost; dropping job", { jobId: r.job.id, reason: reason.message });
      r.controller.abort(reason);
    });
  }

  /** Runs an engine call, retrying transport errors (not Workstream errors) with bounded backoff. */
  private async call<T>(what: string, jobId: string, fn: () => Promise<T>, attempts = CALL_ATTEMPTS, onRetry?: () => void): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (!transient(e) || i >= attempts) throw e;
        onRetry?.();
        const delay = backoffMs(i);
        this.logger.warn(`${what} failed; retrying`, { jobId, error: e, attempt: i, delayMs: delay });
        await sleep(delay);
      }
    }
  }

  private async settleAck(r: Running, value: unknown): Promise<void> {
    const { job } = r;
    let retried = false;
    try {
      // While running normally, the ack also leases this slot's next job (one round trip per job).
      // A retried ack claims nothing: a lost reply could have leased a job we would never see.
      const result = value === undefined ? null : value;
      const out = await this.call(
        "ack",
        job.id,
        () => this.engine.ack(job.id, r.lease.token, result, !retried && !this.stopping && !this.suspended ? { next: this.nextClaim() } : {}),
        CALL_ATTEMPTS,
        () => (retried = true),
      );
      r.next = out.next;
      this.processed++;
      this.logger.debug("job completed", { jobId: job.id });
    } catch (e) {
      if (e instanceof LeaseLostError) {
        if (retried && e.details["status"] === "completed") this.processed++; // an earlier try landed; its reply was lost
        else this.logger.warn("lease lost before ack; result dropped", { jobId: job.id, status: e.details["status"] });
        return;
      }
      if (e instanceof JobNotFoundError || transient(e)) {
        this.logger.error("ack failed; the lease will expire and the job be retried", { jobId: job.id, error: e });
        return;
      }
      // The result cannot be stored (too large, not JSON): the attempt fails like a thrown error.
      await this.settleFail(r, e);
    }
  }

  private async settleFail(r: Running, thrown: unknown): Promise<void> {
    const { job } = r;
    const c = classifyError(sameRealm(thrown));
    const error = { name: clip(c.name, 256), message: clip(c.message, 60_000), stack: c.stack === null ? null : clip(c.stack, 60_000) };
    const retryAfterMs = c.retryAfterMs === null ? undefined : Math.max(0, Math.round(c.retryAfterMs));
    try {
      const out = await this.call("fail", job.id, () =>
        this.engine.fail(job.id, r.lease.token, { error, retryable: c.retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }),
      );
      this.failed++;
      this.logger.info("job failed", { jobId: job.id, attempt: job.attempt, error: error.message, retryable: c.retryable, outcome: out.outcome });
    } catch (e) {
      if (e instanceof LeaseLostError || e instanceof JobNotFoundError) this.logger.warn("lease lost before fail; dropped", { jobId: job.id });
      else this.logger.error("fail failed; the lease will expire and the job be retried", { jobId: job.id, error: e });
    }
  }

  private nextClaim() {
    return { workerId: this.workerId, queues: this.queues, permissionLevels: this.permissionLevels, leaseMs: this.leaseMs, count: 1 };
  }

  private async releaseClaimed(job: ClaimedJob, lease: Lease): Promise<void> {
    try {
      await this.call("release", job.id, () => this.engine.release(job.id, lease.token), RELEASE_ATTEMPTS);
      this.logger.info("job released", { jobId: job.id });
    } catch (e) {
      this.logger.warn("release failed; the lease will expire", { jobId: job.id, error: e });
    }
  }

  // ── shutdown ──────────────────────────────────────────────────────────────────────────────

  private allDone(): Promise<void> {
    return (async () => {
      while (this.active.size > 0) await new Promise<void>((r) => this.slotWaiters.push(r));
    })();
  }

  private async shutdown(graceMs: number): Promise<void> {
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((r) => (graceTimer = setTimeout(r, graceMs)));
    await Promise.race([this.allDone(), graceOver, this.hardLatch.promise]);
    clearTimeout(graceTimer);
    const left = [...this.active.values()];
    if (left.length > 0) this.logger.info("releasing unfinished jobs", { workerId: this.workerId, jobs: left.map((r) => r.job.id) });
    for (const r of left) {
      this.transition(r, "released", async () => {
        r.controller.abort(new WorkerShutdownError(r.job.id));
        await this.releaseClaimed(r.job, r.lease);
      });
    }
    // Jobs mid-ack/fail finish that; released ones are given back. Bounded by the call retries.
    await Promise.all(left.map((r) => r.finishing));
    await Promise.race([this.loopDone, sleep(STOP_LOOP_WAIT_MS)]);
    this.stopped = true;
    clearTimeout(this.beatTimer);
    await this.beating;
    try {
      await this.call("deregister", this.workerId, () => this.registry.deregister(this.workerId, this.streamPairs), RELEASE_ATTEMPTS);
    } catch (e) {
      this.logger.warn("deregister failed; the record expires on its own", { error: e });
    }
    this.logger.info("worker stopped", { workerId: this.workerId, jobsProcessed: this.processed, jobsFailed: this.failed, released: left.length });
  }
}
