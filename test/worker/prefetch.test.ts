/**
 * The Worker's group commit and prefetch, in-process against the real redis-server: acks of
 * handlers that finish together share one ackMany call (which also leases the next jobs), claimed
 * jobs kept in hand never exceed concurrency + prefetch, prefetched jobs that never started go back
 * at once on stop, and one refused ack (a result too large, a lost lease) leaves the others alone.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  Engine,
  tcpPort,
  Worker,
  WorkerShutdownError,
  type AckManyResult,
  type AckOptions,
  type EngineSettingsInput,
  type JobHandler,
  type JobStatus,
  type LogFields,
  type WorkerLogger,
  type WorkerOptions,
} from "../../packages/core/src/index.ts";
import { rawRedis } from "../support/engines.ts";
import { sleep, waitFor } from "./support.ts";

/**
 * An Engine that records the job ids of every ackMany call (the worker's group commits) and can
 * hold ack calls back, like a slow round trip under the test's control.
 */
class RecordingEngine extends Engine {
  readonly ackBatches: string[][] = [];
  /** While set, an ack call waits for it before it is sent. */
  hold: Promise<void> | null = null;
  override async ackMany(items: ReadonlyArray<{ jobId: string; token: number; result?: unknown }>, opts?: AckOptions): Promise<AckManyResult> {
    this.ackBatches.push(items.map((i) => i.jobId));
    if (this.hold) await this.hold;
    return super.ackMany(items, opts);
  }

  /** Holds ack calls until the returned function is called. */
  holdAcks(): () => void {
    let release!: () => void;
    this.hold = new Promise<void>((r) => (release = r));
    return () => {
      this.hold = null;
      release();
    };
  }
}

interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: LogFields;
}

function recordingLogger(): { logger: WorkerLogger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = (level: LogRecord["level"]) => (msg: string, fields: LogFields = {}) => void (level === "debug" || records.push({ level, msg, fields }));
  return { records, logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") } };
}

const running: Worker[] = [];
const ports: Array<{ close(): Promise<void> }> = [];
const gates: Gates[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) g.openAll();
  await Promise.all(running.splice(0).map((w) => w.stop({ graceMs: 0 })));
  await Promise.all(ports.splice(0).map((p) => p.close()));
});

function setup(handler: JobHandler, opts: Partial<WorkerOptions> = {}, settings: EngineSettingsInput = {}) {
  const port = tcpPort(inject("redisUrl"));
  ports.push(port);
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const engine = new RecordingEngine({ redis: port, settings: { keyPrefix: prefix, ...settings } });
  const { logger, records } = recordingLogger();
  const worker = new Worker({ engine, redis: port, handler, queues: ["default"], logger, ...opts });
  running.push(worker);
  /** Another worker on the same engine and connection. */
  const another = (h: JobHandler, o: Partial<WorkerOptions> = {}) => {
    const w = new Worker({ engine, redis: port, handler: h, queues: ["default"], logger, ...o });
    running.push(w);
    return w;
  };
  return { engine, worker, records, another };
}

/** Handlers that block until the test lets them return (or their signal aborts). */
interface Gates {
  /** Job ids in the order their handlers started. */
  started: string[];
  /** Job ids whose handler saw its signal abort, with the reason. */
  aborted: Map<string, unknown>;
  handler: (result?: (id: string) => unknown) => JobHandler;
  open(id: string): void;
  openAll(): void;
}

function gated(): Gates {
  const openers = new Map<string, () => void>();
  const opened = new Set<string>();
  let all = false;
  const g: Gates = {
    started: [],
    aborted: new Map(),
    handler: (result = (id) => ({ id })) => async (job, ctx) => {
      g.started.push(job.id);
      if (!all && !opened.has(job.id)) {
        await new Promise<void>((resolve, reject) => {
          openers.set(job.id, resolve);
          ctx.signal.addEventListener("abort", () => (g.aborted.set(job.id, ctx.signal.reason), reject(ctx.signal.reason)), { once: true });
        });
      }
      return result(job.id);
    },
    open: (id) => {
      opened.add(id);
      openers.get(id)?.();
    },
    openAll: () => {
      all = true;
      for (const f of openers.values()) f();
    },
  };
  gates.push(g);
  return g;
}

/** How many of `ids` are in each status, read from their job records. */
async function statusCounts(engine: Engine, ids: readonly string[]): Promise<Partial<Record<JobStatus, number>>> {
  const out: Partial<Record<JobStatus, number>> = {};
  for (const id of ids) {
    const s = (await engine.getJob(id)).status;
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

const jobIds = (n: number) => Array.from({ length: n }, (_, i) => `job-${String(i).padStart(3, "0")}`);
const enqueueAll = (engine: Engine, ids: readonly string[]) => engine.enqueueBatch(ids.map((id) => ({ id, queue: "default", payload: { id } })));

describe("Worker group commit", () => {
  it("runs 300 short jobs at concurrency 1 exactly once each, with far fewer ack calls than jobs", async () => {
    const runs = new Map<string, number>();
    const { engine, worker, records } = setup(async (job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      return { id: job.id };
    });
    const ids = jobIds(300);
    await enqueueAll(engine, ids);
    await worker.start();
    await waitFor("300 processed", () => worker.stats().jobs_processed >= 300, { timeoutMs: 25_000 });
    await worker.stop({ graceMs: 1000 });

    const stats = worker.stats();
    expect({ processed: stats.jobs_processed, failed: stats.jobs_failed, prefetched: stats.prefetched }).toEqual({ processed: 300, failed: 0, prefetched: 0 });
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    // Group commit: several acks per call. (300 jobs, one at a time, would be 300 calls.)
    expect(stats.ack_calls).toBeLessThan(300);
    expect(stats.ack_calls).toBeLessThanOrEqual(200);
    expect(engine.ackBatches).toHaveLength(stats.ack_calls);
    const acked = engine.ackBatches.flat();
    expect(acked).toHaveLength(300);
    expect(new Set(acked).size).toBe(300);
    expect(Math.max(...engine.ackBatches.map((b) => b.length))).toBeGreaterThan(1);

    for (const id of ids) expect(await engine.getJob(id)).toMatchObject({ status: "completed", attempts: 1, result: { id } });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ pending: 0, started: 0, finished: 300 });
    expect(await rawRedis().llen(engine.keys.durations("default"))).toBe(300);
    expect(await rawRedis().zcard(engine.keys.timers())).toBe(0);
    expect(records.filter((r) => r.level === "warn" || r.level === "error")).toEqual([]);
  });

  it("with prefetch 0 never holds more claimed jobs than its concurrency", async () => {
    const g = gated();
    const { engine, worker } = setup(g.handler(), { concurrency: 2, prefetch: 0 });
    const ids = jobIds(6);
    await enqueueAll(engine, ids);
    // Sample the consumer group's pending count (leased jobs) throughout the run.
    let sampling = true;
    let maxLeased = 0;
    let samples = 0;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 5000; i++) {
        const [s] = await engine.stats(["default"]);
        maxLeased = Math.max(maxLeased, s!.started);
        samples++;
        await sleep(5);
      }
    })();
    await worker.start();
    for (let k = 0; k < ids.length; k++) {
      const expectStarted = Math.min(k + 2, ids.length);
      await waitFor(`${expectStarted} started`, () => g.started.length >= expectStarted, { timeoutMs: 10_000 });
      await sleep(50); // room for an over-eager claim to show
      expect(g.started).toHaveLength(expectStarted);
      expect(worker.stats()).toMatchObject({ prefetched: 0, active_jobs: Math.min(2, ids.length - k) });
      const counts = await statusCounts(engine, ids);
      expect(counts.active).toBe(Math.min(2, ids.length - k));
      expect(counts.active! + (counts.pending ?? 0) + (counts.completed ?? 0)).toBe(ids.length);
      g.open(g.started[k]!);
    }
    await waitFor("all completed", async () => (await statusCounts(engine, ids)).completed === ids.length, { timeoutMs: 10_000 });
    sampling = false;
    await sampler;
    expect(samples).toBeGreaterThan(5);
    expect(maxLeased).toBeLessThanOrEqual(2);
    expect(maxLeased).toBe(2);
    expect(new Set(g.started).size).toBe(ids.length);
  });
});

describe("Worker prefetch", () => {
  it("keeps a fixed prefetch in hand unstarted; stop() gives those back at once without counting the attempt", async () => {
    const g = gated();
    const { engine, worker, another } = setup(g.handler(), { concurrency: 1, prefetch: 3 });
    const ids = jobIds(6);
    await enqueueAll(engine, ids);
    await worker.start();
    await waitFor("one running, three in hand", () => g.started.length === 1 && worker.stats().prefetched === 3, { timeoutMs: 10_000 });
    await sleep(200);
    expect(g.started).toHaveLength(1);
    expect(worker.stats()).toMatchObject({ active_jobs: 1, prefetched: 3 });
    const runningId = g.started[0]!;
    const held = [];
    for (const id of ids) {
      const j = await engine.getJob(id);
      if (j.status === "active") held.push(j);
    }
    expect(held.map((j) => j.id)).toContain(runningId);
    expect(held).toHaveLength(4);
    expect(held.every((j) => j.worker === worker.workerId && j.attempts === 1)).toBe(true);
    const prefetchedIds = held.map((j) => j.id).filter((id) => id !== runningId);
    expect(await statusCounts(engine, ids)).toEqual({ active: 4, pending: 2 });

    // A short grace: the running job is released when it runs out (its handler told why); the
    // prefetched ones are given back without ever starting.
    await worker.stop({ graceMs: 200 });
    expect(g.started).toEqual([runningId]);
    expect(g.aborted.get(runningId)).toBeInstanceOf(WorkerShutdownError);
    expect(worker.stats()).toMatchObject({ state: "stopped", prefetched: 0, active_jobs: 0, jobs_processed: 0, jobs_failed: 0 });
    for (const id of [runningId, ...prefetchedIds]) {
      const job = await engine.getJob(id);
      expect(job).toMatchObject({ status: "pending", attempts: 0, leaseExpiresAt: null, error: null });
      expect(job.history.map((h) => h.status)).toEqual(["pending", "active", "released"]);
    }
    expect(await statusCounts(engine, ids)).toEqual({ pending: 6 });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ pending: 6, started: 0 });
    expect(await rawRedis().zcard(engine.keys.timers())).toBe(0);

    // Another worker takes them all; each runs as its first attempt.
    const ran: string[] = [];
    const next = another(async (job, ctx) => (ran.push(job.id), { attempt: ctx.attempt }), { concurrency: 2 });
    await next.start();
    await waitFor("all completed", async () => (await statusCounts(engine, ids)).completed === ids.length, { timeoutMs: 10_000 });
    expect([...ran].sort()).toEqual(ids);
    for (const id of ids) expect(await engine.getJob(id)).toMatchObject({ status: "completed", attempts: 1, worker: next.workerId, result: { attempt: 1 } });
  });

  it("on stop, prefetched jobs are back in the queue while the running job still finishes within the grace", async () => {
    const g = gated();
    const { engine, worker } = setup(g.handler(), { concurrency: 1, prefetch: 2 });
    const ids = jobIds(4);
    await enqueueAll(engine, ids);
    await worker.start();
    await waitFor("one running, two in hand", () => g.started.length === 1 && worker.stats().prefetched === 2, { timeoutMs: 10_000 });
    const runningId = g.started[0]!;
    const stopping = worker.stop({ graceMs: 15_000 });
    // Released at once, not at the end of the grace: the running job is still running.
    await waitFor("prefetched released", async () => (await statusCounts(engine, ids)).pending === 3, { timeoutMs: 5_000 });
    expect(await engine.getJob(runningId)).toMatchObject({ status: "active", worker: worker.workerId });
    expect(worker.stats()).toMatchObject({ state: "stopping", prefetched: 0, active_jobs: 1 });
    g.open(runningId);
    await stopping;
    expect(await engine.getJob(runningId)).toMatchObject({ status: "completed", result: { id: runningId } });
    expect(await statusCounts(engine, ids)).toEqual({ completed: 1, pending: 3 });
    for (const id of ids.filter((i) => i !== runningId)) expect(await engine.getJob(id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(g.started).toEqual([runningId]);
    // Stopping, the last ack leased nothing more.
    expect(worker.stats()).toMatchObject({ jobs_processed: 1, ack_calls: 1 });
    expect(engine.ackBatches).toEqual([[runningId]]);
  });

  it("auto prefetch stays at 0 while jobs take over a second", async () => {
    const { engine, worker } = setup(
      async (job, ctx) => {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 1200);
          ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
        });
        return job.id;
      },
      { concurrency: 1 },
    );
    const ids = jobIds(3);
    await enqueueAll(engine, ids);
    await worker.start();
    await waitFor("first running", () => worker.stats().active_jobs === 1, { timeoutMs: 5_000 });
    expect(worker.stats().prefetched).toBe(0);
    expect(await statusCounts(engine, ids)).toEqual({ active: 1, pending: 2 });
    // The second job starts once the first took 1.2 s: its run time is known now, and too long to prefetch for.
    await waitFor("first completed", async () => (await statusCounts(engine, ids)).completed === 1, { timeoutMs: 10_000 });
    await waitFor("second running", () => worker.stats().active_jobs === 1, { timeoutMs: 5_000 });
    await sleep(100);
    expect(worker.stats().prefetched).toBe(0);
    expect(await statusCounts(engine, ids)).toEqual({ completed: 1, active: 1, pending: 1 });
    await waitFor("all completed", async () => (await statusCounts(engine, ids)).completed === 3, { timeoutMs: 10_000 });
    // One ack per job, each leasing the next: never more than one job in hand.
    expect(engine.ackBatches).toEqual(ids.map((id) => [id]));
  });

  it("auto prefetch fills the hand once a short run time is known", async () => {
    const g = gated();
    const { engine, worker } = setup(g.handler(), { concurrency: 1 });
    const ids = jobIds(10);
    g.open(ids[0]!); // the first job returns at once: a short run time
    await enqueueAll(engine, ids);
    await worker.start();
    // Before any run time is known it claimed one job; that job's ack leased the rest (16 wanted, 9 left).
    await waitFor("second running, the rest in hand", () => g.started.length === 2 && worker.stats().prefetched === 8, { timeoutMs: 10_000 });
    expect(g.started).toEqual(ids.slice(0, 2));
    expect(engine.ackBatches).toEqual([[ids[0]]]);
    expect(await statusCounts(engine, ids)).toEqual({ completed: 1, active: 9 });
    await worker.stop({ graceMs: 0 });
    expect(await statusCounts(engine, ids)).toEqual({ completed: 1, pending: 9 });
    for (const id of ids.slice(1)) expect(await engine.getJob(id)).toMatchObject({ attempts: 0 });
  });
});

describe("prefetched jobs whose lease ran out in hand", () => {
  // Jobs in hand are not heartbeated until they start. When the job before them runs longer than
  // the lease (the run-time average said short), their leases expire, maintenance (or any claim)
  // reclaims them, and the attempt counts as lost. The worker must then not start them: it no
  // longer holds them, and after their backoff another worker may be running them.
  it("are not started once their lease has expired (default auto prefetch)", async () => {
    const g = gated();
    const starts: Array<{ id: string; attempt: number; leaseLeftMs: number }> = [];
    const inner = g.handler();
    const { engine, worker, records } = setup(
      async (job, ctx) => {
        starts.push({ id: job.id, attempt: ctx.attempt, leaseLeftMs: ctx.lease.expiresAt - Date.now() });
        return inner(job, ctx);
      },
      { concurrency: 1, leaseMs: 1000 },
    );
    const later = ["p1", "p2", "p3"];
    await enqueueAll(engine, ["fast", "slow", ...later]);
    g.open("fast"); // a short first run: auto prefetch then keeps the rest in hand
    await worker.start();
    await waitFor("slow running, the rest in hand", () => g.started.length === 2 && worker.stats().prefetched === 3, { timeoutMs: 10_000 });
    expect(g.started).toEqual(["fast", "slow"]);
    // Maintenance runs while "slow" outlives the leases the jobs in hand were claimed with.
    const inHandUntil = Math.max(...(await Promise.all(later.map(async (id) => Date.parse((await engine.getJob(id)).leaseExpiresAt ?? "")))));
    expect(inHandUntil).toBeGreaterThan(Date.now());
    await waitFor(
      "past the first leases of the jobs in hand",
      async () => {
        await engine.tick();
        return Date.now() > inHandUntil + 300;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(await engine.getJob("slow")).toMatchObject({ status: "active", worker: worker.workerId, attempts: 1 });
    g.openAll();
    await waitFor("slow completed", async () => (await engine.getJob("slow")).status === "completed", { timeoutMs: 10_000 });
    await waitFor("nothing in hand", () => worker.stats().prefetched === 0 && worker.stats().active_jobs === 0, { timeoutMs: 10_000 });
    await worker.stop({ graceMs: 1000 });

    expect(starts.filter((s) => s.leaseLeftMs <= 0)).toEqual([]);
    expect(records.filter((r) => r.msg === "lease lost before ack; result dropped")).toEqual([]);
  });
});

describe("one refused ack in a group commit", () => {
  // The first job's ack call is held in flight; the others finish meanwhile, so their acks go
  // together in the next call (one ack call in flight at a time).
  it("a result too large fails that job only, for good (retrying would give the same result); the acks that finished with it complete", async () => {
    const g = gated();
    const { engine, worker, records } = setup(
      g.handler((id) => (id === "big" ? { blob: "x".repeat(1000) } : { id })),
      { concurrency: 5 },
      { maxPayloadBytes: 300 },
    );
    const ids = ["leader", "big", "s1", "s2", "s3"];
    await engine.enqueueBatch(ids.map((id) => ({ id, queue: "default", payload: { id }, maxRetries: 3 })));
    await worker.start();
    await waitFor("all five running", () => g.started.length === 5, { timeoutMs: 10_000 });
    const release = engine.holdAcks();
    g.open("leader");
    await waitFor("the leader's ack call in flight", () => engine.ackBatches.length === 1, { timeoutMs: 10_000 });
    g.openAll();
    await waitFor("every handler returned", () => worker.stats().active_jobs === 0, { timeoutMs: 10_000 });
    await waitFor("big failed", () => worker.stats().jobs_failed === 1, { timeoutMs: 10_000 });
    release();
    await waitFor("settled", () => worker.stats().jobs_processed === 4, { timeoutMs: 10_000 });

    expect(worker.stats()).toMatchObject({ jobs_processed: 4, jobs_failed: 1, ack_calls: 2 });
    expect(engine.ackBatches.map((b) => [...b].sort())).toEqual([["leader"], ["s1", "s2", "s3"]]);
    for (const id of ["leader", "s1", "s2", "s3"]) expect(await engine.getJob(id)).toMatchObject({ status: "completed", result: { id } });
    const big = await engine.getJob("big");
    expect(big).toMatchObject({ status: "failed", result: null, attempts: 1, error: { name: "PayloadTooLargeError" }, deadLetter: { reason: "non_retryable" } });
    expect(big.error!.message).toMatch(/limit is 300/);
    expect((await engine.stats(["default"]))[0]).toMatchObject({ finished: 4, failed: 1, started: 0, pending: 0 });
    expect(records.filter((r) => r.level === "error")).toEqual([]);
  });

  it("a job whose lease was lost mid-run (cancelled, or re-claimed with a newer token) does not stop the other acks", async () => {
    const g = gated();
    const { engine, worker, records } = setup(g.handler(), { concurrency: 5 });
    const ids = ["leader", "a", "cancelled", "stolen", "d"];
    await enqueueAll(engine, ids);
    await worker.start();
    await waitFor("all five running", () => g.started.length === 5, { timeoutMs: 10_000 });
    const stolen = await engine.getJob("stolen");
    await engine.cancel("cancelled", "operator");
    await engine.release("stolen", stolen.leaseToken);
    const thief = await engine.claim({ workerId: "thief", queues: ["default"] });
    expect(thief).toMatchObject({ status: "claimed", job: { id: "stolen" }, lease: { token: stolen.leaseToken + 1 } });
    if (thief.status !== "claimed") return;

    const release = engine.holdAcks();
    g.open("leader");
    await waitFor("the leader's ack call in flight", () => engine.ackBatches.length === 1, { timeoutMs: 10_000 });
    g.openAll();
    await waitFor("every handler returned", () => worker.stats().active_jobs === 0, { timeoutMs: 10_000 });
    release();
    await waitFor("settled", () => engine.ackBatches.flat().length === 5 && worker.stats().jobs_processed === 3, { timeoutMs: 10_000 });
    expect(engine.ackBatches.map((b) => [...b].sort())).toEqual([["leader"], ["a", "cancelled", "d", "stolen"]]);
    for (const id of ["leader", "a", "d"]) expect(await engine.getJob(id)).toMatchObject({ status: "completed", result: { id } });
    expect(await engine.getJob("cancelled")).toMatchObject({ status: "cancelled", result: null });
    expect(await engine.getJob("stolen")).toMatchObject({ status: "active", worker: "thief", leaseToken: thief.lease.token, result: null });
    const dropped = records.filter((r) => r.msg === "lease lost before ack; result dropped").map((r) => r.fields["jobId"]);
    expect([...dropped].sort()).toEqual(["cancelled", "stolen"]);
    expect(worker.stats()).toMatchObject({ jobs_processed: 3, jobs_failed: 0, ack_calls: 2 });
    expect(records.filter((r) => r.level === "error")).toEqual([]);

    // The new holder still completes its job, and the worker goes on taking work.
    await engine.ack("stolen", thief.lease.token, "thief's result");
    expect(await engine.getJob("stolen")).toMatchObject({ status: "completed", result: "thief's result" });
    await engine.enqueue({ id: "after", queue: "default", payload: {} });
    await waitFor("after completed", async () => (await engine.getJob("after")).status === "completed", { timeoutMs: 10_000 });
    expect(worker.stats().jobs_processed).toBe(4);
  });
});
