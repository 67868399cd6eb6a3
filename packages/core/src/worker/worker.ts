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
 * also bills).
 *
 * Busy: a handler's slot is free as soon as it returns; its ack joins the next ack call, which
 * carries every ack that came in while the previous one was in flight (group commit) and leases the
 * next jobs in the same call. With short jobs the worker also keeps a few claimed jobs in hand
 * (adaptive prefetch, bounded so a prefetched job waits at most ~5 % of its lease), so a free slot
 * starts its next job without a round trip. Long jobs (over a second) are never prefetched.
 *
 * Shutdown (`stop()`, SIGTERM in the process entry): stop claiming, let in-flight jobs finish
 * within the grace period, release the rest with their lease (the attempt is not counted),
 * deregister. A second `stop()` skips the rest of the grace period.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import { z } from "zod";
import { performance } from "node:perf_hooks";
import type { Claimed } from "../claimed.ts";
import { MAX_ACK_BATCH, MAX_CLAIM_BATCH, type AckManyResult, type AckOptions, type ClaimBatchResult, type ClaimedJob, type EncodedResult, type Engine, type Lease } from "../engine.ts";
import { JobNotFoundError, LeaseLostError, RetryAfterError, WorkstreamError } from "../errors.ts";
import { keySpace } from "../keys.ts";
import { Id, PermissionLevel } from "../messages.ts";
import type { AskInput, RequestView } from "../requests.ts";
import { deliverCallbacks } from "../notify/callbacks.ts";
import type { NotifyContext } from "../notify/hooks.ts";
import { classifyError } from "../retry.ts";
import { runScript } from "../scripts.ts";
import { openAll, type Keyring } from "../security/encryption.ts";
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
  /**
   * Claimed jobs kept in hand beyond `concurrency`, so a slot that frees up starts its next job at
   * once. "auto" (default): none until handler run times are known, then as many as keep a
   * prefetched job's wait under 5 % of the lease (at most max(16, concurrency)), and none while
   * jobs take over a second. A number fixes it (0 = never prefetch).
   */
  prefetch?: number | "auto";
  /** Stream consumer name and registry id. Default: host-pid-random. */
  workerId?: string;
  /** Lease asked for at claim and renewed by each heartbeat (every third of it). Default: engine.settings.claimIdleMs. */
  leaseMs?: number;
  /** How long stop() lets in-flight jobs finish before releasing them. Default 110 s (ECS allows 120 s). */
  shutdownGraceMs?: number;
  logger?: WorkerLogger;
  /** Registry beat interval. Default 60 s. */
  registryBeatMs?: number;
  /** Registry record TTL. Default 180 s; must exceed the beat interval. */
  registryTtlMs?: number;
  /** Longest single blocking wait while idle. Default 60 s. */
  maxWaitMs?: number;
  /** An idle worker claims at least this often even when nothing woke it. Default 5 min. */
  reclaimEveryMs?: number;
  /** How long a handler that ignores its aborted signal keeps its concurrency slot. Default 10 s. */
  abandonAfterMs?: number;
  /** Opens a dedicated blocking connection for `ctx.ask` waits (closed after each). Without it, answers are polled once a second. */
  openBlocking?: () => BlockingRedisPort;
  /**
   * Sends the callbacks of the jobs this worker finishes right after it finishes them (from the
   * callback outbox: notify/callbacks.ts). Without it they are still sent, by scheduled maintenance
   * within a minute.
   */
  notify?: NotifyContext | null;
  /**
   * Decrypts payload fields enqueued as `sensitive` before the handler sees them (the keyring of
   * WORKSTREAM_ENCRYPTION_KEYS). Without it, or for a field sealed with a key it lacks, the
   * handler gets the sealed envelope, and the worker logs the field's path.
   */
  keyring?: Keyring | null;
}

const Settings = z
  .object({
    permissionLevels: z.array(PermissionLevel).min(1).default(["autonomous"]),
    concurrency: z.number().int().min(1).max(1000).default(1),
    prefetch: z.union([z.literal("auto"), z.number().int().min(0).max(1000)]).default("auto"),
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
  /** Ack calls made (each may carry many acks). */
  ack_calls: number;
  /** Jobs claimed and not started yet (prefetch). */
  prefetched: number;
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
  /** performance.now() when the handler started. */
  startedAt: number;
}

/** A finished job's ack, waiting for the next ack call. */
interface PendingAck {
  r: Running;
  result: EncodedResult;
  done: () => void;
}

const MIN_WAIT_MS = 50;
const CALL_ATTEMPTS = 30;
const RELEASE_ATTEMPTS = 5;
const STOP_LOOP_WAIT_MS = 5_000;
/** How long stop() waits for a callback send in flight (what it leaves, maintenance sends). */
const CALLBACKS_STOP_WAIT_MS = 5_000;
/** A prefetched job may wait this share of its lease before it starts (auto prefetch). */
const PREFETCH_LEASE_SHARE = 0.05;
/** Jobs whose handlers typically run longer than this are not prefetched (auto prefetch). */
const PREFETCH_MAX_JOB_MS = 1_000;

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
  /** Jobs whose handler is running (each holds a concurrency slot). */
  private readonly active = new Map<string, Running>();
  /** Jobs whose handler returned, with their ack or fail being written. */
  private readonly settling = new Set<Running>();
  /** Claimed jobs not started yet (prefetch), oldest first. */
  private buffer: Claimed[] = [];
  /** Acks waiting for the next ack call. */
  private acks: PendingAck[] = [];
  /**
   * The ack call in flight, if any. One at a time; acks queued meanwhile go in the next call. Two in
   * flight was measured slower (bench/profile-drain.ts): smaller batches cost Redis more per job
   * than the overlap saves.
   */
  private flushing: Promise<void> | null = null;
  /** Jobs asked for by claim calls in flight (so two calls never over-fill). */
  private reserved = 0;
  /** Moving average of handler run time (ms); null until a job finished. */
  private runTimeMs: number | null = null;
  private ackCalls = 0;
  private handTimer: NodeJS.Timeout | undefined;
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
  private changeWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();
  private readonly notify: NotifyContext | null;
  private readonly keyring: Keyring | null;
  /** The callback send in progress (one at a time); `callbacksAgain` asks for one more round after it. */
  private sendingCallbacks: Promise<void> | null = null;
  /** What the last ack's next-claim found when it read every stream dry (see loop); used once. */
  private idleHint: AckManyResult["idle"] = null;
  /** The claim loop is in a blocking read on the streams. */
  private blocked = false;
  private callbacksAgain = false;
  private beatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(opts: WorkerOptions) {
    const s = Settings.safeParse({
      permissionLevels: opts.permissionLevels,
      concurrency: opts.concurrency,
      prefetch: opts.prefetch,
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
    this.notify = opts.notify ?? null;
    this.keyring = opts.keyring ?? null;
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
    this.notifyChanged();
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
      ack_calls: this.ackCalls,
      prefetched: this.buffer.length,
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
      this.pump();
      const want = this.wanted();
      // Acks about to be written lease the next jobs themselves (one call for both): wait for them.
      if (want <= 0 || this.acks.length > 0 || this.flushing) {
        await this.changed();
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
        let res: Pick<ClaimBatchResult, "nextTimerAt" | "tips"> & { jobs: Claimed[] };
        const hint = this.idleHint;
        this.idleHint = null;
        if (hint && (hint.nextTimerAt === null || hint.nextTimerAt > Date.now())) {
          // The last ack's next-claim read every stream dry: wait on its tips, as after an empty
          // claim (an entry appended since has a newer id and ends the wait at once). A timer
          // already due is fired by a real claim instead.
          res = { jobs: [], ...hint };
        } else {
          this.claims++;
          this.reserved += want;
          try {
            res = await this.engine.claimBatch({ ...this.claimOptions(), count: want, tipsFor: [this.controlKey] });
          } finally {
            this.reserved -= want;
          }
        }
        errors = 0;
        if (res.jobs.length > 0) {
          this.take(res.jobs);
          // All that was asked for: claim again for what is still free. Fewer (the streams ran dry):
          // wait on the tips that came with them, as after an empty claim.
          if (!res.tips) continue;
        }
        // Nothing (more) claimable: block until something is appended after this claim (the tips
        // come from the same atomic script, so nothing is slept through). A wait that times out with
        // nothing new is renewed: no job becomes claimable without a new entry unless a timer falls due.
        const streams = res.tips ?? [];
        const claimedAt = Date.now();
        for (let renewals = 0; renewals < 10_000 && !this.stopping; renewals++) {
          const arrived = await this.wait(streams, this.waitTimeout(res.nextTimerAt, claimedAt));
          this.idleHint = null; // an ack's read while we waited is no newer than what woke us: claim
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
    this.blocked = true;
    try {
      return await Promise.race([waiting, this.stopLatch.promise.then(() => [])]);
    } finally {
      this.blocked = false;
    }
  }

  private async streamTips(): Promise<{ tips: string[]; suspended: boolean }> {
    const raw = await runScript(this.redis, "stream_tips", [this.workerKey, this.controlKey, ...this.readyStreams], []);
    const r = z.object({ tips: z.array(z.string()), suspended: z.boolean() }).parse(JSON.parse(raw));
    return r;
  }

  /** Resolves at the next change of slots, prefetched jobs or claims in flight (or at stop). */
  private changed(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((r) => this.changeWaiters.push(r));
  }

  private notifyChanged(): void {
    if (this.changeWaiters.length === 0) return;
    const w = this.changeWaiters;
    this.changeWaiters = [];
    for (const f of w) f();
  }

  private claimOptions() {
    return { workerId: this.workerId, queues: this.queues, permissionLevels: this.permissionLevels, leaseMs: this.leaseMs };
  }

  /** Jobs to claim now: free slots plus the prefetch, less what is in hand or being claimed. */
  private wanted(): number {
    if (this.stopping) return 0;
    return Math.min(MAX_CLAIM_BATCH, this.concurrency + this.prefetch() - this.active.size - this.buffer.length - this.reserved);
  }

  private prefetch(): number {
    const p = this.settings.prefetch;
    if (p !== "auto") return p;
    let runTime = this.runTimeMs;
    if (runTime === null || runTime > PREFETCH_MAX_JOB_MS) return 0;
    // A job running long now counts before it finishes: no prefetch while one is past the limit.
    const now = performance.now();
    for (const r of this.active.values()) runTime = Math.max(runTime, now - r.startedAt);
    if (runTime > PREFETCH_MAX_JOB_MS) return 0;
    // A prefetched job waits about (prefetch / concurrency) run times before it starts.
    const fits = Math.floor((this.concurrency * this.leaseMs * PREFETCH_LEASE_SHARE) / Math.max(runTime, 0.01));
    return Math.min(fits, Math.max(16, this.concurrency));
  }

  private noteRunTime(ms: number): void {
    this.runTimeMs = this.runTimeMs === null ? ms : this.runTimeMs * 0.8 + ms * 0.2;
  }

  /** Claimed jobs: into the hand, then into free slots (or back to the queue when stopping). */
  private take(jobs: Claimed[]): void {
    if (jobs.length === 0) return;
    if (this.stopping) {
      for (const c of jobs) void this.releaseClaimed(c.job, c.lease);
      return;
    }
    for (const c of jobs) this.buffer.push(c);
    this.pump();
    this.scheduleHandCheck();
  }

  /** Starts prefetched jobs in free slots; one held past a third of its lease goes back instead. */
  private pump(): void {
    while (this.active.size < this.concurrency && this.buffer.length > 0 && !this.stopping) {
      const c = this.buffer.shift()!;
      if (this.heldTooLong(c, Date.now())) void this.releaseClaimed(c.job, c.lease);
      else this.startJob(c.job, c.lease);
    }
    this.notifyChanged();
  }

  /**
   * A prefetched job gets no heartbeats until it starts: once it has waited a third of its lease
   * (a job ahead of it ran long), it is released for another worker rather than started late or
   * left to expire — an expired lease would be reclaimed and count an attempt the job never ran.
   */
  private heldTooLong(c: Claimed, now: number): boolean {
    return c.lease.expiresAt - now < (2 * this.leaseMs) / 3;
  }

  private scheduleHandCheck(): void {
    if (this.handTimer || this.buffer.length === 0 || this.stopping) return;
    this.handTimer = setTimeout(() => {
      this.handTimer = undefined;
      const now = Date.now();
      const stale: Claimed[] = [];
      const kept: Claimed[] = [];
      for (const c of this.buffer) (this.heldTooLong(c, now) ? stale : kept).push(c);
      if (stale.length > 0) {
        this.buffer = kept;
        this.logger.info("prefetched jobs waited too long; released", { jobIds: stale.map((c) => c.job.id) });
        for (const c of stale) void this.releaseClaimed(c.job, c.lease);
        this.notifyChanged();
      }
      this.scheduleHandCheck();
    }, Math.max(100, Math.floor(this.leaseMs / 6)));
    this.handTimer.unref();
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
      startedAt: performance.now(),
    };
    this.active.set(job.id, r);
    this.logger.debug("job started", { jobId: job.id, attempt: job.attempt, token: lease.token });
    void this.runJob(r).catch((e: unknown) => this.logger.error("job runner crashed", { jobId: job.id, error: e }));
  }

  /** The job as the handler sees it: sensitive payload fields decrypted when the worker has the keyring. */
  private opened(job: ClaimedJob): ClaimedJob {
    if (!this.keyring) return job;
    const { value, undecryptable } = openAll(job.payload, this.keyring);
    if (undecryptable.length > 0) this.logger.warn("sensitive payload fields could not be decrypted; the handler gets them sealed", { jobId: job.id, fields: undecryptable });
    return { ...job, payload: value };
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
    const handled = (async () => this.handler(this.opened(job), ctx))().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const first = await Promise.race([handled, r.interrupted.then(() => null)]);
    if (first) {
      this.noteRunTime(performance.now() - r.startedAt);
      if (this.transition(r, "settling", () => (first.ok ? this.settleAck(r, first.value) : this.settleFail(r, first.error)))) {
        // The handler is done: its slot takes the next job while the outcome is written.
        this.active.delete(job.id);
        this.settling.add(r);
        this.pump();
        await r.finishing;
        r.phase = "done";
        clearTimeout(r.hbTimer);
        this.settling.delete(r);
        this.notifyChanged();
        return;
      }
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
    this.pump();
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

  /** The next heartbeat: a third of the lease from now, or sooner when less than two thirds are left (a prefetched job). */
  private scheduleHeartbeat(r: Running, delay = Math.min(Math.floor(this.leaseMs / 3), Math.floor((r.lease.expiresAt - Date.now()) / 2))): void {
    r.hbTimer = setTimeout(() => void this.heartbeat(r), Math.max(100, delay));
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

  /** Queues the job's ack for the next ack call; resolves once it was written (or given up on). */
  private settleAck(r: Running, value: unknown): Promise<void> {
    let result: EncodedResult;
    try {
      result = this.engine.encodeResult(value === undefined ? null : value);
    } catch (e) {
      // The result cannot be stored (too large, not JSON). Running the handler again would most
      // likely produce the same result, so the job fails for good rather than burning its retries.
      return this.settleFail(r, e, { retryable: false });
    }
    return new Promise<void>((done) => {
      this.acks.push({ r, result, done });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing || this.acks.length === 0) return;
    this.flushing = this.flushAcks().finally(() => {
      this.flushing = null;
      this.scheduleFlush();
      this.pump();
    });
  }

  /**
   * One ack call for every ack queued (up to MAX_ACK_BATCH), leasing the jobs that fill the free
   * capacity in the same call.
   */
  private async flushAcks(): Promise<void> {
    await Promise.resolve(); // gather the acks of handlers finishing in this microtask turn
    const batch = this.acks.splice(0, MAX_ACK_BATCH);
    if (batch.length === 0) return;
    const items = batch.map((a) => ({ jobId: a.r.job.id, token: a.r.lease.token, result: a.result }));
    const want = this.suspended ? 0 : Math.max(0, this.wanted());
    this.reserved += want;
    this.ackCalls++;
    let retried = false;
    let next: Claimed[] = [];
    try {
      // A retried call claims nothing: a lost reply could have leased jobs we would never see.
      const out = await this.call(
        "ack",
        items[0]!.jobId,
        () => this.engine.ackMany(items, !retried && want > 0 && !this.stopping ? { next: this.nextClaim(want) } : {}),
        CALL_ATTEMPTS,
        () => (retried = true),
      );
      out.outcomes.forEach((o, i) => {
        const jobId = items[i]!.jobId;
        if (o.ok) {
          this.processed++;
          if (o.callbackUrl) this.sendCallbacks();
          this.logger.debug("job completed", { jobId });
        } else if (o.code === "lease_lost" && retried && o.status === "completed") {
          this.processed++; // an earlier try landed; its reply was lost
        } else {
          this.logger.warn("lease lost before ack; result dropped", { jobId, status: o.code === "lease_lost" ? o.status : null });
        }
      });
      next = out.next;
      // The streams ran dry: the claim loop can wait on these tips instead of claiming again.
      this.idleHint = out.idle;
    } catch (e) {
      this.logger.error("ack failed; the leases will expire and the jobs be retried", { jobIds: items.map((i) => i.jobId), error: e });
    } finally {
      this.reserved -= want;
      for (const a of batch) a.done();
    }
    this.take(next);
  }

  /**
   * The next-claim an ack call carries. It asks for the stream tips only when the claim loop is not
   * already blocked on the streams: a loop that is blocked holds tips of its own, still good, and
   * reporting them again would cost a command per stream for nothing.
   */
  private nextClaim(count: number): NonNullable<AckOptions["next"]> {
    return { ...this.claimOptions(), count, ...(this.blocked ? {} : { tipsFor: [this.controlKey] }) };
  }

  private async settleFail(r: Running, thrown: unknown, override: { retryable?: false } = {}): Promise<void> {
    const { job } = r;
    const c = { ...classifyError(sameRealm(thrown)), ...override };
    const error = { name: clip(c.name, 256), message: clip(c.message, 60_000), stack: c.stack === null ? null : clip(c.stack, 60_000) };
    const retryAfterMs = c.retryAfterMs === null ? undefined : Math.max(0, Math.round(c.retryAfterMs));
    try {
      const out = await this.call("fail", job.id, () =>
        this.engine.fail(job.id, r.lease.token, { error, retryable: c.retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }),
      );
      this.failed++;
      if (out.outcome === "dead_lettered" && out.callbackUrl) this.sendCallbacks();
      this.logger.info("job failed", { jobId: job.id, attempt: job.attempt, error: error.message, retryable: c.retryable, outcome: out.outcome });
    } catch (e) {
      if (e instanceof LeaseLostError || e instanceof JobNotFoundError) this.logger.warn("lease lost before fail; dropped", { jobId: job.id });
      else this.logger.error("fail failed; the lease will expire and the job be retried", { jobId: job.id, error: e });
    }
  }

  /** Sends the callback outbox (with `notify`): one send at a time, one more round if asked meanwhile. */
  private sendCallbacks(): void {
    const notify = this.notify;
    if (!notify) return;
    if (this.sendingCallbacks) {
      this.callbacksAgain = true;
      return;
    }
    this.sendingCallbacks = (async () => {
      do {
        this.callbacksAgain = false;
        try {
          await deliverCallbacks(notify, { sender: "worker" });
        } catch (e) {
          this.logger.warn("sending callbacks failed; maintenance retries them", { error: e });
        }
      } while (this.callbacksAgain && !this.stopped);
    })().finally(() => (this.sendingCallbacks = null));
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
      while (this.active.size > 0) await new Promise<void>((r) => this.changeWaiters.push(r));
    })();
  }

  private async shutdown(graceMs: number): Promise<void> {
    // Prefetched jobs never started: give them back at once, for other workers to take.
    const unstarted = this.buffer;
    this.buffer = [];
    clearTimeout(this.handTimer);
    const releasing = Promise.all(unstarted.map((c) => this.releaseClaimed(c.job, c.lease)));
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
    await Promise.all([...left, ...this.settling].map((r) => r.finishing));
    await releasing;
    while (this.flushing) await this.flushing;
    if (this.sendingCallbacks) await Promise.race([this.sendingCallbacks, sleep(CALLBACKS_STOP_WAIT_MS)]);
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
