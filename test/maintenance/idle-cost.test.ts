/**
 * The idle cost of the scheduled functions in Redis commands (what Upstash bills), counted on a
 * private redis-server with INFO commandstats after CONFIG RESETSTAT. Commands run inside scripts
 * are counted by the server too. docs/maintenance.md quotes these figures.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServerHandle } from "../../packages/local/src/index.ts";
import {
  createNotifyContext,
  Engine,
  httpNotifier,
  memoryLogger,
  notifyConfigFromEnv,
  publishMetrics,
  runMaintenance,
  tcpPort,
  WorkerRegistry,
  type RedisPort,
} from "../../packages/core/src/index.ts";

let server: RedisServerHandle;
let admin: Redis;
let port: RedisPort;
beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
  port = tcpPort(server.url);
});
afterAll(async () => {
  await port.close();
  await admin.quit();
  await server.stop();
});

async function count(fn: () => Promise<unknown>): Promise<{ total: number; byCommand: Record<string, number> }> {
  await admin.config("RESETSTAT");
  await fn();
  const info = await admin.info("commandstats");
  const byCommand: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1]!.startsWith("config") || m[1] === "info") continue; // the measurement's own commands
    byCommand[m[1]!] = Number(m[2]);
  }
  return { total: Object.values(byCommand).reduce((a, b) => a + b, 0), byCommand };
}

describe("idle cost per run (3 default queues, no jobs)", () => {
  it("counts the Redis commands of reclaim and metrics on an idle queue", async () => {
    const log = memoryLogger();
    const engine = new Engine({ redis: port, settings: { keyPrefix: "idle:" } });
    const notify = createNotifyContext({
      config: notifyConfigFromEnv({ WORKSTREAM_NOTIFY_MODE: "http", WORKSTREAM_DLQ_WEBHOOK_URL: "http://127.0.0.1:9/dlq" }),
      jobs: engine,
      queueNames: engine.queues.ordered.map((q) => q.name),
      notifier: httpNotifier({ attempts: 1 }),
      log,
    });
    // Used once, then idle: streams and consumer groups exist, the jobs are done.
    for (const q of ["high_priority", "default", "low_priority"]) {
      await engine.enqueue({ id: `warm-${q}`, payload: {}, queue: q });
      const c = await engine.claim({ workerId: "w" });
      if (c.status === "claimed") await engine.ack(c.job.id, c.lease.token, null);
    }
    const deps = { engine, redis: port, notify, log };
    const sink = { put: async () => undefined };
    const registry = new WorkerRegistry({ redis: port, keys: engine.keys });
    await runMaintenance(deps, { at: Date.UTC(2026, 0, 1, 0, 1) });
    await publishMetrics({ engine, redis: port, sink, log, workers: registry });

    const minute = await count(() => runMaintenance(deps, { at: Date.UTC(2026, 0, 1, 0, 1) }));
    await runMaintenance(deps, { at: Date.UTC(2026, 0, 1, 0, 10) }); // loads the prune script (EVALSHA miss + EVAL) once
    const tenth = await count(() => runMaintenance(deps, { at: Date.UTC(2026, 0, 1, 0, 10) }));
    const noNotify = await count(() => runMaintenance({ ...deps, notify: null }, { at: Date.UTC(2026, 0, 1, 0, 1) }));
    const metrics = await count(() => publishMetrics({ engine, redis: port, sink, log }));
    const metricsWithWorkers = await count(() => publishMetrics({ engine, redis: port, sink, log, workers: registry }));
    console.log(JSON.stringify({ idleCost: { minute, tenth, noNotify, metrics, metricsWithWorkers } }));

    // Bounds (the exact figures are in docs/maintenance.md); a change that makes idle runs costlier fails here.
    expect(minute.total).toBeLessThanOrEqual(40);
    expect(tenth.total).toBeLessThanOrEqual(80);
    expect(metrics.total).toBeLessThanOrEqual(60);
    expect(minute.byCommand["evalsha"]).toBe(3); // tick, callback outbox (an XLEN when empty), DLQ sweep: one round trip each
    expect(minute.byCommand["xlen"]).toBe(1);
  });
});
