/**
 * The Worker class in-process against the real redis-server: the idle cost in commands (counted by
 * a pass-through port), blocking wake-ups, delayed jobs on time, error classification, job
 * timeouts, progress, suspend/resume through the registry, and questions to the controller.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  Engine,
  NonRetryableError,
  RetryAfterError,
  silentLogger,
  tcpPort,
  Worker,
  WorkerRegistry,
  type BlockingRedisPort,
  type JobHandler,
  type WorkerOptions,
} from "../../packages/core/src/index.ts";
import { SCRIPTS } from "../../packages/core/src/lua/scripts.generated.ts";
import { waitFor } from "./support.ts";

interface Counted {
  port: BlockingRedisPort;
  /** Script calls by name, and blocking waits. */
  counts: Map<string, number>;
  /** At each blocking wait: the counts so far and the timeout asked for. */
  atWait: Array<{ counts: Map<string, number>; timeoutMs: number }>;
}

/** A pass-through port over a real TCP port that counts what is sent. */
function counting(inner: BlockingRedisPort): Counted {
  const bySha = new Map<string, string>(Object.entries(SCRIPTS).map(([name, s]): [string, string] => [s.sha, name]));
  const bySource = new Map<string, string>(Object.entries(SCRIPTS).map(([name, s]): [string, string] => [s.source, name]));
  const counts = new Map<string, number>();
  const inc = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  const atWait: Counted["atWait"] = [];
  return {
    counts,
    atWait,
    port: {
      evalsha: (sha, keys, args) => (inc(bySha.get(sha) ?? "?"), inner.evalsha(sha, keys, args)),
      eval: (src, keys, args) => (inc(`eval:${bySource.get(src) ?? "?"}`), inner.eval(src, keys, args)),
      waitForEntries: (streams, timeoutMs) => {
        inc("XREAD");
        atWait.push({ counts: new Map(counts), timeoutMs });
        return inner.waitForEntries(streams, timeoutMs);
      },
      close: () => inner.close(),
    },
  };
}

const running: Worker[] = [];
const ports: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop({ graceMs: 0 })));
  await Promise.all(ports.splice(0).map((p) => p.close()));
});

function setup(handler: JobHandler, opts: Partial<WorkerOptions> = {}) {
  const tcp = tcpPort(inject("redisUrl"));
  ports.push(tcp);
  const c = counting(tcp);
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const engine = new Engine({ redis: c.port, settings: { keyPrefix: prefix } });
  const worker = new Worker({ engine, redis: c.port, handler, queues: ["default"], logger: silentLogger, ...opts });
  running.push(worker);
  return { engine, worker, ...c };
}

const sleepAbortable = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

const completed = (engine: Engine, id: string) => async () => {
  const j = await engine.getJob(id);
  return j.status === "completed" ? j : null;
};

describe("Worker idle cost and wake-ups", () => {
  it("an idle worker renews its wait with one XREAD and claims again only every reclaimEveryMs", async () => {
    const quiet = setup(async () => null, { maxWaitMs: 50, reclaimEveryMs: 3_600_000, registryBeatMs: 60_000, registryTtlMs: 180_000 });
    await quiet.worker.start();
    await waitFor("12 idle waits", () => quiet.worker.stats().waits >= 12, { timeoutMs: 10_000 });
    await quiet.worker.stop({ graceMs: 0 });
    const quietDiff = (k: string) => (quiet.atWait[11]!.counts.get(k) ?? 0) - (quiet.atWait[5]!.counts.get(k) ?? 0);
    expect({ tips: quietDiff("stream_tips"), claims: quietDiff("claim"), xread: quietDiff("XREAD") }).toEqual({ tips: 0, claims: 0, xread: 6 });
  });

  it("with reclaimEveryMs reached on every wait, each cycle is one claim (it reports the stream tips) + one XREAD", async () => {
    const { worker, atWait, counts } = setup(async () => null, { maxWaitMs: 50, reclaimEveryMs: 10, registryBeatMs: 60_000 });
    await worker.start();
    await waitFor("12 idle waits", () => worker.stats().waits >= 12, { timeoutMs: 10_000 });
    await worker.stop({ graceMs: 0 });
    const diff = (k: string) => (atWait[11]!.counts.get(k) ?? 0) - (atWait[5]!.counts.get(k) ?? 0);
    expect({ tips: diff("stream_tips"), claims: diff("claim"), xread: diff("XREAD"), beats: diff("worker_beat") }).toEqual({ tips: 0, claims: 6, xread: 6, beats: 0 });
    expect(atWait.every((w) => w.timeoutMs === 50)).toBe(true);
    expect(counts.get("worker_beat")).toBe(1); // the registration beat; then one per registryBeatMs
  });

  it("a blocked worker wakes for a new job at once (no polling)", async () => {
    const { engine, worker } = setup(async (job) => ({ got: job.payload }));
    await worker.start();
    await waitFor("blocked", () => worker.stats().waits >= 1);
    await engine.enqueue({ id: "wake", queue: "default", payload: 1 });
    const job = await waitFor("completed", completed(engine, "wake"), { timeoutMs: 10_000 });
    expect(job.result).toEqual({ got: 1 });
    // Woken out of its first 30 s wait (the job completed well within the bound above), then waiting again.
    expect(worker.stats().waits).toBeLessThanOrEqual(2);
    expect(worker.stats().claims).toBeLessThanOrEqual(5); // empty, empty, the job, empty, empty
  });

  it("a job arriving at an idle worker costs one wake-up, one claim and one ack: the ack's tips re-arm the wait", async () => {
    const { engine, worker, counts, atWait } = setup(async () => "done", { concurrency: 2 });
    await worker.start();
    await waitFor("blocked", () => worker.stats().waits >= 1);
    for (let i = 0; i < 5; i++) {
      const waits = worker.stats().waits;
      await engine.enqueue({ id: `t${i}`, queue: "default", payload: {} });
      await waitFor("completed", completed(engine, `t${i}`), { timeoutMs: 10_000 });
      await waitFor("waiting again", () => worker.stats().waits > waits, { timeoutMs: 10_000 });
    }
    const first = atWait[0]!.counts;
    const diff = (k: string) => (counts.get(k) ?? 0) - (first.get(k) ?? 0);
    // per job: the wake-up claim and the ack (whose next-claim found nothing and reported the
    // tips); no empty claim before waiting again
    expect({ claims: diff("claim"), acks: diff("ack"), xread: diff("XREAD") }).toEqual({ claims: 5, acks: 5, xread: 5 });
  });

  it("a delayed job bounds the wait by its due time, and runs", async () => {
    const { engine, worker, atWait } = setup(async () => "ran");
    await engine.enqueue({ id: "later", queue: "default", payload: {}, delayMs: 400 });
    await worker.start();
    await waitFor("completed", completed(engine, "later"), { timeoutMs: 10_000 });
    expect(atWait[0]!.timeoutMs).toBeLessThanOrEqual(405);
    expect(atWait[0]!.timeoutMs).toBeGreaterThan(0);
  });
});

describe("Worker outcomes", () => {
  it("acks results, dead-letters NonRetryableError, honours RetryAfterError, records progress", async () => {
    const { engine, worker } = setup(
      async (job, ctx) => {
        const p = job.payload as { kind: string };
        if (p.kind === "fatal") throw new NonRetryableError("bad repository url");
        if (p.kind === "later") throw new RetryAfterError("rate limited", 60_000);
        await ctx.heartbeat({ pct: 50 });
        return { kind: p.kind, attempt: ctx.attempt };
      },
      { concurrency: 3 },
    );
    await engine.enqueueBatch([
      { id: "ok", queue: "default", payload: { kind: "ok" } },
      { id: "fatal", queue: "default", payload: { kind: "fatal" } },
      { id: "later", queue: "default", payload: { kind: "later" } },
    ]);
    const t0 = Date.now();
    await worker.start();
    expect(await waitFor("ok", completed(engine, "ok"))).toMatchObject({ result: { kind: "ok", attempt: 1 }, progress: { pct: 50 } });
    const fatal = await waitFor("fatal", async () => ((await engine.getJob("fatal")).status === "failed" ? engine.getJob("fatal") : null));
    expect(fatal).toMatchObject({ attempts: 1, deadLetter: { reason: "non_retryable" }, error: { name: "NonRetryableError", message: "bad repository url" } });
    const later = await waitFor("later", async () => ((await engine.getJob("later")).status === "retrying" ? engine.getJob("later") : null));
    expect(Date.parse(later.nextAttemptAt!) - t0).toBeGreaterThanOrEqual(60_000);
    await waitFor("counted", () => worker.stats().jobs_processed === 1 && worker.stats().jobs_failed === 2);
  });

  it("enforces the job timeout: the signal aborts with TimeoutError and the attempt fails retryably", async () => {
    let reason: unknown;
    const { engine, worker } = setup(async (_job, ctx) => {
      try {
        await sleepAbortable(30_000, ctx.signal);
      } catch (e) {
        reason = e;
        throw e;
      }
    });
    await engine.enqueue({ id: "slow", queue: "default", payload: {}, timeoutSeconds: 1, retry: { kind: "fixed", intervalsMs: [60_000] } });
    await worker.start();
    const job = await waitFor("retrying", async () => ((await engine.getJob("slow")).status === "retrying" ? engine.getJob("slow") : null), { timeoutMs: 10_000 });
    expect(job.error).toMatchObject({ name: "TimeoutError" });
    expect(job.attempts).toBe(1);
    expect(reason).toMatchObject({ name: "TimeoutError" });
  });
});

describe("worker registry", () => {
  it("reports the seed's worker stats, and suspend/resume stops and restarts claiming", async () => {
    const { engine, worker } = setup(async () => "done", { maxWaitMs: 100, concurrency: 2, workerId: "reg-w1" });
    await worker.start();
    const registry = new WorkerRegistry({ redis: tcpPort(inject("redisUrl")), keys: engine.keys });
    ports.push({ close: () => Promise.resolve() });
    const stats = await registry.workerStats();
    expect(stats).toMatchObject({ total: 1, idle: 1, busy: 0, suspended: 0 });
    expect(stats.workers[0]).toMatchObject({ workerId: "reg-w1", state: "idle", active_jobs: 0, jobs_processed: 0, jobs_failed: 0, queues: ["default"], concurrency: 2 });
    expect(stats.workers[0]!.uptime_seconds).toBeGreaterThanOrEqual(0);

    expect(await registry.suspendWorker("reg-w1")).toBe(true);
    expect(await registry.suspendWorker("nobody")).toBe(false);
    await waitFor("suspended", () => worker.stats().state === "suspended");
    expect(await registry.workerStats()).toMatchObject({ total: 1, suspended: 1, idle: 0 });
    await engine.enqueue({ id: "held", queue: "default", payload: {} });
    const waits = worker.stats().waits;
    await waitFor("3 more waits", () => worker.stats().waits >= waits + 3);
    expect((await engine.getJob("held")).status).toBe("pending"); // a suspended worker claims nothing

    expect(await registry.resumeWorker("reg-w1")).toBe(true);
    await waitFor("completed after resume", completed(engine, "held"));
    await worker.stop();
    expect((await registry.workerStats()).total).toBe(0);
    await registry["redis"].close();
  });
});

describe("questions to the controller", () => {
  it("ctx.ask waits for the controller's answer while the lease is kept", async () => {
    const { engine, worker } = setup(async (_job, ctx) => {
      if (!ctx.ask) throw new Error("engine has no askQuestion");
      const view = await ctx.ask({ requestType: "question", message: "which branch?" }, { timeoutMs: 10_000 });
      return { answer: view.response?.message ?? null, status: view.status };
    });
    await engine.enqueue({ id: "asks", queue: "default", payload: {} });
    await worker.start();
    const open = await waitFor("open request", async () => (await engine.listRequests()).find((r) => r.work_order_id === "asks") ?? null);
    expect((await engine.getJob("asks")).status).toBe("waiting");
    await engine.answerRequest(open.id, { responseType: "answer", message: "main", generatedBy: "human", responderId: "ana" });
    expect(await waitFor("completed", completed(engine, "asks"))).toMatchObject({ result: { answer: "main", status: "answered" } });
  });
});
