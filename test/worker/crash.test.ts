/**
 * Crash test: real worker processes (3 × concurrency 8) are SIGKILLed at random moments while they
 * work through 2000 jobs, and replaced. A tick loop reclaims the dead workers' leases (2 s).
 *
 * What is true, and asserted: every job ends `completed`, acked exactly once (one completion
 * record each: the `done` index and the durations list each hold exactly N), none lost, none left
 * leased or queued. Handler *execution* is at-least-once: a job whose worker died mid-run ran again
 * elsewhere; the handler's own side-effect counters show those re-runs, bounded by kills × concurrency.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { Engine, tcpPort } from "../../packages/core/src/index.ts";
import { rawRedis } from "../support/engines.ts";
import { sleep, spawnWorker, waitFor, within, type WorkerProc } from "./support.ts";

const N = 2000;
const WORKERS = 3;
const CONCURRENCY = 8;
const MAX_KILLS = 8;

// A small seeded PRNG so a failing run can be replayed (mulberry32).
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("worker processes killed with SIGKILL at random moments", () => {
  it("complete every job exactly once (acks), with at-least-once handler runs", async () => {
    const url = inject("redisUrl");
    const prefix = `t${randomUUID().slice(0, 8)}:`;
    const side = `${prefix}side:`;
    const port = tcpPort(url);
    const engine = new Engine({ redis: port, settings: { keyPrefix: prefix, claimIdleMs: 2000 } });
    const r = rawRedis();
    const seed = Date.now() % 100_000;
    const random = prng(seed);

    for (let i = 0; i < N; i += 500) {
      await engine.enqueueBatch(
        Array.from({ length: 500 }, (_, k) => ({
          id: `job-${i + k}`,
          queue: "default",
          payload: { ms: 40 + ((i + k) % 60) },
          maxRetries: 100,
          retry: { kind: "fixed" as const, intervalsMs: [100] },
        })),
      );
    }

    const env = {
      WORKSTREAM_REDIS_URL: url,
      WORKSTREAM_KEY_PREFIX: prefix,
      WORKSTREAM_CLAIM_IDLE_MS: "2000",
      WORKSTREAM_CONCURRENCY: String(CONCURRENCY),
      WORKSTREAM_QUEUES: "default",
      WORKSTREAM_SHUTDOWN_GRACE_MS: "5000",
      WORKSTREAM_LOG_LEVEL: "info",
      TEST_SIDE_PREFIX: side,
    };
    const workers: WorkerProc[] = Array.from({ length: WORKERS }, () => spawnWorker(env));
    let stopTicking = false;
    const ticker = (async () => {
      for (let i = 0; i < 1000 && !stopTicking; i++) {
        await engine.tick().catch(() => undefined);
        await sleep(200);
      }
    })();

    try {
      await within(Promise.all(workers.map((w) => w.ready)), 30_000, "workers start");
      const done = () => r.zcard(engine.keys.done("default"));

      let kills = 0;
      for (let i = 0; i < MAX_KILLS && (await done()) < N * 0.9; i++) {
        await sleep(200 + Math.floor(random() * 500));
        const k = Math.floor(random() * workers.length);
        await workers[k]!.kill("SIGKILL");
        kills++;
        workers[k] = spawnWorker(env);
        await within(workers[k]!.ready, 30_000, "replacement worker start");
      }

      await waitFor("all jobs completed", async () => (await done()) === N, { timeoutMs: 45_000, intervalMs: 200 });
      stopTicking = true;
      await ticker;
      const exits = await within(Promise.all(workers.map(async (w) => (w.child.kill("SIGTERM"), w.exited))), 20_000, "workers exit");
      expect(exits.every((e) => e.code === 0), JSON.stringify(exits)).toBe(true);

      // Every job completed, and acked exactly once.
      const pipe = r.pipeline();
      for (let i = 0; i < N; i++) pipe.hmget(engine.keys.job(`job-${i}`), "status", "attempts");
      const rows = (await pipe.exec())!.map(([, v]) => v as [string, string]);
      const notCompleted = rows.map((v, i) => [i, v[0]] as const).filter(([, s]) => s !== "completed");
      expect(notCompleted, `seed ${seed}`).toEqual([]);
      expect(await r.zcard(engine.keys.done("default"))).toBe(N);
      expect(await r.llen(engine.keys.durations("default"))).toBe(N); // ack.lua appends one duration per ack

      // Nothing left leased, queued or pending in a consumer's list.
      const timers = await r.zrange(engine.keys.timers(), 0, -1);
      expect(timers.filter((t) => t.startsWith("L:"))).toEqual([]);
      const stream = engine.keys.ready("default", "autonomous");
      expect(await r.xlen(stream)).toBe(0);
      expect((await r.xpending(stream, "workers"))[0]).toBe(0);
      expect(await r.zcard(engine.keys.delayed("default"))).toBe(0);

      // Handler side effects: every job ran at least once; re-runs only where a worker died mid-job.
      const firsts = await r.eval(`return #redis.call('KEYS', ARGV[1])`, 0, `${side}first:*`);
      expect(firsts).toBe(N);
      const executions = Number(await r.get(`${side}executions`));
      const reruns = executions - N;
      expect(reruns).toBeGreaterThanOrEqual(0);
      expect(reruns).toBeLessThanOrEqual(kills * CONCURRENCY);
      const attempts = rows.reduce((a, v) => a + Number(v[1]), 0);
      // Attempts count claims that reached a handler or were lost with their worker, never fewer than runs that acked.
      expect(attempts).toBeGreaterThanOrEqual(N);
      console.info(`crash test (seed ${seed}): ${kills} kills, ${reruns} handler re-runs, ${attempts - N} extra attempts`);
    } finally {
      stopTicking = true;
      await ticker;
      await Promise.all(workers.map((w) => w.kill("SIGKILL")));
      await port.close();
    }
  }, 120_000);
});
