/**
 * Redis restarts under running workers: a private redis-server with AOF (fsync always) is restarted
 * while two worker processes work. The workers reconnect on their own (errors during claim/ack are
 * retried with bounded backoff), nothing that was acked before the restart is lost, and every job
 * still completes exactly once.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { Engine, tcpPort } from "../../packages/core/src/index.ts";
import { startRedisServer } from "../../packages/local/src/index.ts";
import { sleep, spawnWorker, waitFor, within, type WorkerProc } from "./support.ts";

const N = 300;

describe("a redis-server restart while workers run", () => {
  it("workers reconnect, acked jobs survive, every job completes once", async () => {
    const server = await startRedisServer({ appendOnly: true });
    const prefix = `t${randomUUID().slice(0, 8)}:`;
    const port = tcpPort(server.url);
    port.client.on("error", () => {});
    const raw = new Redis(server.url, { maxRetriesPerRequest: 100 });
    raw.on("error", () => {});
    const engine = new Engine({ redis: port, settings: { keyPrefix: prefix, claimIdleMs: 3000 } });
    const workers: WorkerProc[] = [];
    let stopTicking = false;
    let ticker: Promise<void> = Promise.resolve();
    try {
      await engine.enqueueBatch(
        Array.from({ length: N }, (_, i) => ({ id: `r-${i}`, queue: "default", payload: { ms: 40 }, maxRetries: 100, retry: { kind: "fixed" as const, intervalsMs: [100] } })),
      );
      const env = {
        WORKSTREAM_REDIS_URL: server.url,
        WORKSTREAM_KEY_PREFIX: prefix,
        WORKSTREAM_CLAIM_IDLE_MS: "3000",
        WORKSTREAM_CONCURRENCY: "4",
        WORKSTREAM_QUEUES: "default",
        WORKSTREAM_SHUTDOWN_GRACE_MS: "5000",
        TEST_SIDE_PREFIX: `${prefix}side:`,
      };
      workers.push(spawnWorker(env), spawnWorker(env));
      await within(Promise.all(workers.map((w) => w.ready)), 30_000, "workers start");
      ticker = (async () => {
        for (let i = 0; i < 600 && !stopTicking; i++) {
          await engine.tick().catch(() => undefined);
          await sleep(100);
        }
      })();

      const doneKey = engine.keys.done("default");
      await waitFor("a third done", async () => (await raw.zcard(doneKey)) >= N / 3, { timeoutMs: 20_000 });
      const ackedBefore = await raw.zrange(doneKey, 0, -1);
      await server.restart();
      const afterRestart = new Set(await raw.zrange(doneKey, 0, -1));
      expect(ackedBefore.filter((id) => !afterRestart.has(id))).toEqual([]); // nothing acked was lost

      await waitFor("all done", async () => (await raw.zcard(doneKey)) === N, { timeoutMs: 40_000, intervalMs: 100 });
      const pipe = raw.pipeline();
      for (let i = 0; i < N; i++) pipe.hget(engine.keys.job(`r-${i}`), "status");
      const statuses = (await pipe.exec())!.map(([, v]) => v);
      expect(statuses.filter((s) => s !== "completed")).toEqual([]);
      expect(await raw.llen(engine.keys.durations("default"))).toBe(N); // one ack each
      expect(workers.every((w) => w.child.exitCode === null)).toBe(true); // both survived the restart
      expect(workers.some((w) => w.lines.some((l) => /redis reconnecting/.test(l)))).toBe(true);

      stopTicking = true;
      await ticker;
      const exits = await within(Promise.all(workers.map(async (w) => (w.child.kill("SIGTERM"), w.exited))), 20_000, "workers exit");
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
    } finally {
      stopTicking = true;
      await ticker;
      await Promise.all(workers.map((w) => w.kill("SIGKILL")));
      raw.disconnect();
      port.client.disconnect();
      await server.stop();
    }
  }, 90_000);
});
