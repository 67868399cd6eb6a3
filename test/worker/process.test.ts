/**
 * The worker process under signals: graceful SIGTERM (finish or release, exit 0), a second SIGTERM,
 * a job far longer than its lease kept alive by heartbeats, and a frozen worker (SIGSTOP) whose job
 * is reclaimed and completed by another worker while its own late ack is refused.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Engine, tcpPort, WorkerRegistry, type Job } from "../../packages/core/src/index.ts";
import { rawRedis } from "../support/engines.ts";
import { sleep, spawnWorker, waitFor, within, type WorkerProc } from "./support.ts";

interface Ctx {
  engine: Engine;
  prefix: string;
  env: Record<string, string>;
  stopTicks: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(extraEnv: Record<string, string> = {}, tick = false): Ctx {
  const url = inject("redisUrl");
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const port = tcpPort(url);
  const engine = new Engine({ redis: port, settings: { keyPrefix: prefix, claimIdleMs: Number(extraEnv["WORKSTREAM_CLAIM_IDLE_MS"] ?? 60_000) } });
  let stop = false;
  const ticker = tick
    ? (async () => {
        for (let i = 0; i < 600 && !stop; i++) {
          await engine.tick().catch(() => undefined);
          await sleep(100);
        }
      })()
    : Promise.resolve();
  const stopTicks = async () => {
    stop = true;
    await ticker;
  };
  cleanups.push(async () => {
    await stopTicks();
    await port.close();
  });
  const env = { WORKSTREAM_REDIS_URL: url, WORKSTREAM_KEY_PREFIX: prefix, WORKSTREAM_QUEUES: "default", TEST_SIDE_PREFIX: `${prefix}side:`, ...extraEnv };
  return { engine, prefix, env, stopTicks };
}

function worker(env: Record<string, string>, extra: Record<string, string> = {}): WorkerProc {
  const w = spawnWorker({ ...env, ...extra });
  cleanups.push(() => w.kill("SIGKILL"));
  return w;
}

const statusOf = (engine: Engine, id: string): Promise<Job> => engine.getJob(id);
const allActive = (engine: Engine, ids: string[]) => async () => (await Promise.all(ids.map((id) => statusOf(engine, id)))).every((j) => j.status === "active");

describe("worker process signals", () => {
  it("exits 1 with one line naming the Redis address and the connection error, never the password, when Redis is unreachable", async () => {
    // port 1 on loopback: nothing listens, so every connect is refused
    const w = worker({ WORKSTREAM_REDIS_URL: "redis://:hunter2-secret@127.0.0.1:1", WORKSTREAM_QUEUES: "default" });
    const exit = await within(w.exited, 45_000, "worker without a reachable Redis exits");
    expect(exit.code).toBe(1);
    const last = w.stderr().trim().split("\n").at(-1);
    expect(last).toBe("workstream worker: could not register with Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1");
    expect(w.stderr() + w.lines.join("\n")).not.toContain("hunter2-secret");
  });

  it("SIGTERM lets in-flight jobs finish within the grace period, then exits 0", async () => {
    const { engine, env, prefix } = setup({ WORKSTREAM_CONCURRENCY: "4", WORKSTREAM_SHUTDOWN_GRACE_MS: "15000" });
    const ids = ["a", "b", "c", "d"];
    await engine.enqueueBatch(ids.map((id) => ({ id, queue: "default", payload: { ms: 1500 } })));
    const w = worker(env);
    await within(w.ready, 30_000, "worker start");
    await waitFor("4 jobs active", allActive(engine, ids));
    w.child.kill("SIGTERM");
    const exit = await within(w.exited, 15_000, "exit within the grace period");
    expect(exit).toEqual({ code: 0, signal: null });
    for (const id of ids) expect(await statusOf(engine, id)).toMatchObject({ status: "completed", attempts: 1 });
    const registry = new WorkerRegistry({ redis: tcpPort(inject("redisUrl")), keys: prefix });
    expect((await registry.workerStats()).total).toBe(0); // deregistered
  }, 60_000);

  it("SIGTERM releases jobs that outlast the grace period with their lease (attempt not counted), exit 0", async () => {
    const { engine, env } = setup({ WORKSTREAM_CONCURRENCY: "2", WORKSTREAM_SHUTDOWN_GRACE_MS: "300" });
    const ids = ["long-1", "long-2"];
    await engine.enqueueBatch(ids.map((id) => ({ id, queue: "default", payload: { ms: 120_000 } })));
    const w = worker(env);
    await within(w.ready, 30_000, "worker start");
    await waitFor("jobs active", allActive(engine, ids));
    w.child.kill("SIGTERM");
    expect(await within(w.exited, 10_000, "exit after releasing")).toEqual({ code: 0, signal: null });
    for (const id of ids) {
      const job = await statusOf(engine, id);
      expect(job).toMatchObject({ status: "pending", attempts: 0 });
      expect(job.history.map((h) => h.status)).toEqual(["pending", "active", "released"]);
    }
  }, 60_000);

  it("a second SIGTERM skips the rest of the grace period and still releases", async () => {
    const { engine, env } = setup({ WORKSTREAM_SHUTDOWN_GRACE_MS: "100000" });
    await engine.enqueue({ id: "slow", queue: "default", payload: { ms: 120_000 } });
    const w = worker(env);
    await within(w.ready, 30_000, "worker start");
    await waitFor("job active", allActive(engine, ["slow"]));
    w.child.kill("SIGTERM");
    await waitFor("stopping logged", () => w.lines.some((l) => l.includes('"worker stopping"')));
    w.child.kill("SIGTERM");
    expect(await within(w.exited, 10_000, "exit after the second signal")).toEqual({ code: 0, signal: null });
    expect(await statusOf(engine, "slow")).toMatchObject({ status: "pending", attempts: 0 });
  }, 60_000);
});

describe("leases of long jobs", () => {
  it("a job running 5× its lease survives on heartbeats and completes on its first attempt", async () => {
    const { engine, env, stopTicks } = setup({ WORKSTREAM_CLAIM_IDLE_MS: "1000" }, true);
    await engine.enqueue({ id: "marathon", queue: "default", payload: { ms: 5000, progress: true } });
    const w = worker(env);
    await within(w.ready, 30_000, "worker start");
    const job = await waitFor("completed", async () => {
      const j = await statusOf(engine, "marathon");
      return j.status === "completed" ? j : null;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    await stopTicks();
    expect(job.attempts).toBe(1);
    expect(job.history.map((h) => h.status)).toEqual(["pending", "active", "completed"]);
    expect(job.progress).toEqual({ started: true });
    const hb = await rawRedis().hget(engine.keys.job("marathon"), "heartbeat_at");
    expect(Number(hb)).toBeGreaterThan(0);
  }, 60_000);

  it("a frozen worker (SIGSTOP) loses its job to another, which completes it; the frozen one's ack is refused", async () => {
    const { engine, env, stopTicks, prefix } = setup({ WORKSTREAM_CLAIM_IDLE_MS: "1000" }, true);
    await engine.enqueue({ id: "frozen", queue: "default", payload: { ms: 2500 }, retry: { kind: "fixed", intervalsMs: [0] } });
    const a = worker(env, { WORKSTREAM_WORKER_ID: "worker-a" });
    await within(a.ready, 30_000, "worker a start");
    await waitFor("claimed by a", async () => (await statusOf(engine, "frozen")).worker === "worker-a");
    a.child.kill("SIGSTOP");
    const b = worker(env, { WORKSTREAM_WORKER_ID: "worker-b" });
    const done = await waitFor("completed by b", async () => {
      const j = await statusOf(engine, "frozen");
      return j.status === "completed" ? j : null;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    expect(done.worker).toBe("worker-b");
    expect(done.attempts).toBe(2);
    expect(done.history.filter((h) => h.status === "completed")).toHaveLength(1);
    expect(done.history.find((h) => h.status === "retrying" || (h.status === "pending" && h.reason === "lease_expired"))).toBeTruthy();

    a.child.kill("SIGCONT");
    await waitFor("a notices its lease is gone", () => a.lines.some((l) => l.includes("lease lost")), { timeoutMs: 10_000 });
    await stopTicks();
    expect(await rawRedis().llen(engine.keys.durations("default"))).toBe(1); // one ack only
    expect(await statusOf(engine, "frozen")).toMatchObject({ status: "completed", worker: "worker-b" });
    expect(await rawRedis().get(`${prefix}side:runs:frozen`)).toBe("2"); // the handler ran twice: at-least-once
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    expect((await within(a.exited, 10_000, "a exits")).code).toBe(0);
    expect((await within(b.exited, 10_000, "b exits")).code).toBe(0);
  }, 60_000);
});
