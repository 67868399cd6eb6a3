/**
 * Counts what each engine operation costs in Redis commands as Upstash bills them: the EVALSHA
 * itself plus every redis.call inside the script. Counted by the server (INFO commandstats after
 * CONFIG RESETSTAT), on a private redis-server. Run: npx tsx bench/command-costs.ts
 */
import { Redis } from "ioredis";
import { Engine, tcpPort } from "../packages/core/src/index.ts";
import { startRedisServer } from "../packages/local/src/index.ts";

export interface CommandCount {
  total: number;
  byCommand: Record<string, number>;
}

/** Resets the server's command statistics, runs `fn`, and returns what the server executed. */
export async function countCommands(admin: Redis, fn: () => Promise<unknown>): Promise<CommandCount> {
  await admin.config("RESETSTAT");
  await fn();
  const info = await admin.info("commandstats");
  const byCommand: Record<string, number> = {};
  for (const line of info.split("\n")) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m && !/^(config|info)\b/.test(m[1]!)) byCommand[m[1]!] = Number(m[2]);
  }
  return { total: Object.values(byCommand).reduce((a, b) => a + b, 0), byCommand };
}

export async function measureEngineCosts(redisUrl: string): Promise<Record<string, CommandCount>> {
  const admin = new Redis(redisUrl);
  const port = tcpPort(redisUrl, { enableAutoPipelining: false });
  const engine = new Engine({ redis: port, settings: { keyPrefix: `cost${Date.now()}:` } });
  try {
    // Warm up: load every script once so EVALSHA never misses in the measured runs.
    await engine.enqueue({ id: "warm", payload: {} });
    const w = await engine.claim({ workerId: "w" });
    if (w.status === "claimed") {
      await engine.heartbeat(w.job.id, w.lease.token);
      await engine.ack(w.job.id, w.lease.token);
    }
    await engine.enqueue({ id: "warm2", payload: {} });
    const w2 = await engine.claim({ workerId: "w" });
    if (w2.status === "claimed") await engine.fail(w2.job.id, w2.lease.token, { error: { message: "x" } });
    await engine.tick();
    await engine.stats();
    await engine.getJob("warm");

    const out: Record<string, CommandCount> = {};
    out["enqueue"] = await countCommands(admin, () => engine.enqueue({ id: "a", payload: { n: 1 } }));
    out["claim (first queue)"] = await countCommands(admin, () => engine.claim({ workerId: "w", queues: ["default"] }));
    const a = await engine.getJob("a");
    out["heartbeat"] = await countCommands(admin, () => engine.heartbeat("a", a.leaseToken));
    out["ack"] = await countCommands(admin, () => engine.ack("a", a.leaseToken, { ok: true }));
    await engine.enqueueBatch([{ id: "n1", payload: {} }, { id: "n2", payload: {} }]);
    const n1 = await engine.claim({ workerId: "w", queues: ["default"] });
    if (n1.status !== "claimed") throw new Error("no job");
    out["ack + claim next (busy worker)"] = await countCommands(admin, () =>
      engine.ack(n1.job.id, n1.lease.token, null, { next: { workerId: "w", queues: ["default"] } }),
    );
    const n2 = await engine.getJob("n2");
    await engine.ack("n2", n2.leaseToken);
    await engine.enqueue({ id: "b", payload: {} });
    const b = await engine.claim({ workerId: "w", queues: ["default"] });
    if (b.status !== "claimed") throw new Error("no job");
    out["fail → retry"] = await countCommands(admin, () => engine.fail("b", b.lease.token, { error: { message: "x" } }));
    await engine.enqueue({ id: "c", priority: "low", payload: {} });
    out["claim (3 queues, job in the last)"] = await countCommands(admin, () => engine.claim({ workerId: "w" }));
    out["claim (empty, 3 queues)"] = await countCommands(admin, () => engine.claim({ workerId: "w" }));
    out["enqueue batch of 100 (per call)"] = await countCommands(admin, () =>
      engine.enqueueBatch(Array.from({ length: 100 }, (_, i) => ({ id: `batch-${i}`, payload: {} }))),
    );
    out["enqueue, engine-generated id"] = await countCommands(admin, () => engine.enqueue({ payload: { n: 2 } }));
    out["enqueue batch of 100, engine-generated ids (per call)"] = await countCommands(admin, () =>
      engine.enqueueBatch(Array.from({ length: 100 }, () => ({ payload: {} }))),
    );
    // What a busy worker sends: the acks of 100 finished jobs and the claim of the next 100, one call.
    const held = await engine.claimBatch({ workerId: "w", queues: ["default"], count: 100 });
    await engine.enqueueBatch(Array.from({ length: 100 }, () => ({ payload: {} })));
    out["ack 100 + claim next 100 (per call)"] = await countCommands(admin, () =>
      engine.ackMany(held.jobs.map((c) => ({ jobId: c.job.id, token: c.lease.token })), { next: { workerId: "w", queues: ["default"], count: 100 } }),
    );
    out["getJob"] = await countCommands(admin, () => engine.getJob("a"));
    out["stats (3 queues)"] = await countCommands(admin, () => engine.stats());
    // An idle system: nothing ready, nothing leased, nothing delayed.
    const idle = new Engine({ redis: port, settings: { keyPrefix: `idle${Date.now()}:` } });
    out["claim (idle, 3 queues)"] = await countCommands(admin, () => idle.claim({ workerId: "w" }));
    out["tick (idle, minute without TTL scan)"] = await countCommands(admin, () => idle.tick({ expire: false }));
    out["tick (idle, with TTL scan)"] = await countCommands(admin, () => idle.tick());
    out["tick (idle, with TTL scan and trim)"] = await countCommands(admin, () => idle.tick({ trim: true }));
    return out;
  } finally {
    await port.close();
    await admin.quit();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startRedisServer();
  try {
    const costs = await measureEngineCosts(server.url);
    for (const [op, c] of Object.entries(costs)) {
      console.log(`${op.padEnd(36)} ${String(c.total).padStart(4)}  ${Object.entries(c.byCommand).map(([k, v]) => `${k}×${v}`).join(" ")}`);
    }
  } finally {
    await server.stop();
  }
}
