/**
 * The callback outbox: every job with a callback_url gets its outcome sent exactly once, whoever
 * finished it (an in-process Worker over TCP, the API path, the lease reclaimer), by whoever sends
 * first (the Worker, the API hook, maintenance); failed sends are retried, then dropped with a log;
 * concurrent senders never send the same entry twice. Real redis-server, real HTTP receiver.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  afterAck,
  createNotifyContext,
  deliverCallbacks,
  Engine,
  httpNotifier,
  memoryLogger,
  NonRetryableError,
  notifyConfigFromEnv,
  OutcomeMessage,
  runMaintenance,
  sealPaths,
  parseKeyring,
  tcpPort,
  Worker,
  type JobHandler,
  type NotifyContext,
  type WorkerLogger,
} from "../../packages/core/src/index.ts";
import { makeEngine, rawRedis, TRANSPORTS, type TestEngine } from "../support/engines.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";
import { waitFor } from "../worker/support.ts";

let hooks: HttpStub;
beforeAll(async () => {
  hooks = await startHttpStub();
});
afterAll(() => hooks.close());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A notify context with its own notifier (no shared in-process dedup), as each process would have. */
function notifyFor(engine: Pick<Engine, "getJob" | "takeCallbacks" | "settleCallbacks" | "queues">, now?: () => number): NotifyContext & { log: ReturnType<typeof memoryLogger> } {
  const log = memoryLogger();
  const ctx = createNotifyContext({
    config: notifyConfigFromEnv({ WORKSTREAM_NOTIFY_MODE: "http" }),
    jobs: engine,
    queueNames: engine.queues.ordered.map((q) => q.name),
    notifier: httpNotifier({ attempts: 1, timeoutMs: 5_000 }),
    ...(now ? { now } : {}),
    log,
  });
  if (!ctx) throw new Error("notifications are off");
  return { ...ctx, log };
}

const received = (path: string) => hooks.requests.filter((r) => r.path === path).map((r) => OutcomeMessage.parse(JSON.parse(r.body)));
const silent: WorkerLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function tcpEngine(): { engine: Engine; port: ReturnType<typeof tcpPort>; prefix: string } {
  const prefix = `cb${randomUUID().slice(0, 8)}:`;
  const port = tcpPort(inject("redisUrl"));
  const engine = new Engine({ redis: port, settings: { keyPrefix: prefix } });
  cleanups.push(() => port.close());
  return { engine, port, prefix };
}

function startWorker(engine: Engine, port: ReturnType<typeof tcpPort>, handler: JobHandler, extra: { notify?: NotifyContext | null; keyring?: ReturnType<typeof parseKeyring> | null; logger?: WorkerLogger } = {}): Worker {
  const w = new Worker({ engine, redis: port, handler, queues: ["default"], concurrency: 4, maxWaitMs: 200, logger: silent, ...extra });
  cleanups.push(() => w.stop({ graceMs: 1_000 }));
  return w;
}

describe("callbacks of jobs finished by a Worker", () => {
  it("the Worker sends completed, failed and dead_lettered callbacks itself, once each, with result or error", async () => {
    const { engine, port } = tcpEngine();
    const base = `/w-${randomUUID().slice(0, 6)}`;
    await engine.enqueueBatch([
      { id: "ok", payload: { n: 21 }, callbackUrl: `${hooks.url}${base}/ok` },
      { id: "nr", payload: { fail: "fatal" }, callbackUrl: `${hooks.url}${base}/nr` },
      { id: "ex", payload: { fail: "flaky" }, maxRetries: 0, callbackUrl: `${hooks.url}${base}/ex` },
      { id: "quiet", payload: { n: 1 } },
    ]);
    const handler: JobHandler = async (job) => {
      const p = job.payload as { n?: number; fail?: string };
      if (p.fail === "fatal") throw new NonRetryableError("cannot ever work");
      if (p.fail) throw new Error("try again");
      return { doubled: (p.n ?? 0) * 2 };
    };
    const w = startWorker(engine, port, handler, { notify: notifyFor(engine) });
    await w.start();
    await waitFor("three callbacks", async () => received(`${base}/ok`).length + received(`${base}/nr`).length + received(`${base}/ex`).length === 3);

    expect(received(`${base}/ok`)).toEqual([{ jobId: "ok", queue: "default", outcome: "completed", result: { doubled: 42 }, attempts: 1, finishedAt: expect.any(String) }]);
    expect(received(`${base}/nr`)).toMatchObject([{ jobId: "nr", outcome: "failed", attempts: 1, error: { message: "cannot ever work" } }]);
    expect(received(`${base}/ex`)).toMatchObject([{ jobId: "ex", outcome: "dead_lettered", attempts: 1, error: { message: "try again" } }]);
    // finishedAt is when the job finished, as the record says
    const ok = await engine.getJob("ok");
    expect(received(`${base}/ok`)[0]!.finishedAt).toBe(ok.finishedAt);

    // nothing left to send, and a maintenance run afterwards sends nothing again
    expect(await engine.takeCallbacks({ retryAfterMs: 0 })).toEqual({ callbacks: [], dropped: [] });
    await runMaintenance({ engine, redis: port, notify: notifyFor(engine), log: memoryLogger() });
    expect(hooks.requests.filter((r) => r.path.startsWith(base))).toHaveLength(3);
  });

  it("a Worker without notify leaves its callbacks to maintenance, which sends each once", async () => {
    const { engine, port } = tcpEngine();
    const base = `/m-${randomUUID().slice(0, 6)}`;
    const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
    await engine.enqueueBatch(ids.map((id) => ({ id, payload: {}, callbackUrl: `${hooks.url}${base}/${id}` })));
    const w = startWorker(engine, port, async () => "done", { notify: null });
    await w.start();
    await waitFor("all completed", async () => (await Promise.all(ids.map((id) => engine.getJob(id)))).every((j) => j.status === "completed"));
    expect(hooks.requests.filter((r) => r.path.startsWith(base))).toHaveLength(0);

    const run = await runMaintenance({ engine, redis: port, notify: notifyFor(engine), log: memoryLogger() });
    expect(run.deliveries.filter((d) => d.kind === "callback" && d.result.ok)).toHaveLength(12);
    await runMaintenance({ engine, redis: port, notify: notifyFor(engine), log: memoryLogger() });
    for (const id of ids) expect(received(`${base}/${id}`)).toMatchObject([{ jobId: id, outcome: "completed", result: "done" }]);
  });

  it("hands sensitive payload fields to the handler decrypted when given the keyring, sealed (and logged) without it", async () => {
    const ring = parseKeyring(`k1:${Buffer.alloc(32, 7).toString("base64")}`, "TEST_KEYS");
    const seen: unknown[] = [];
    const warnings: string[] = [];
    const logger: WorkerLogger = { ...silent, warn: (msg) => void warnings.push(msg) };
    for (const keyring of [ring, null]) {
      const { engine, port } = tcpEngine();
      const sealed = sealPaths({ id: "s", payload: { prompt: "hello", apiKey: "sk-123" } }, ["payload.apiKey"], ring, ["payload"]);
      await engine.enqueue(sealed as { id: string; payload: unknown });
      expect(JSON.stringify((await engine.getJob("s")).payload)).not.toContain("sk-123"); // sealed at rest
      const w = startWorker(engine, port, async (job) => void seen.push(job.payload), { keyring, logger });
      await w.start();
      await waitFor("handled", async () => (await engine.getJob("s")).status === "completed");
      await w.stop({ graceMs: 1_000 });
    }
    expect(seen[0]).toEqual({ prompt: "hello", apiKey: "sk-123" });
    expect((seen[1] as { apiKey: unknown }).apiKey).not.toBe("sk-123");
    expect(JSON.stringify(seen[1])).not.toContain("sk-123");
    expect(warnings).toEqual([]); // no keyring at all: nothing to try, nothing logged
  });

  it("logs the fields it cannot decrypt (a key it lacks) and still runs the job", async () => {
    const writer = parseKeyring(`k9:${Buffer.alloc(32, 9).toString("base64")}`, "TEST_KEYS");
    const reader = parseKeyring(`k1:${Buffer.alloc(32, 1).toString("base64")}`, "TEST_KEYS");
    const warnings: Array<{ msg: string; fields: unknown }> = [];
    const logger: WorkerLogger = { ...silent, warn: (msg, fields) => void warnings.push({ msg, fields }) };
    const { engine, port } = tcpEngine();
    await engine.enqueue(sealPaths({ id: "k", payload: { token: "t-1" } }, ["payload.token"], writer, ["payload"]) as { id: string; payload: unknown });
    const w = startWorker(engine, port, async () => "ran", { keyring: reader, logger });
    await w.start();
    await waitFor("handled", async () => (await engine.getJob("k")).status === "completed");
    expect(warnings).toContainEqual({ msg: expect.stringContaining("could not be decrypted"), fields: { jobId: "k", fields: ["token"] } }); // paths inside the payload
  });
});

describe.each(TRANSPORTS)("the callback outbox over %s", (transport) => {
  const pathFor = (t: TestEngine, id: string) => `/${transport}-${t.prefix.replace(/\W/g, "")}/${id}`;

  it("an API ack sends its callback at once; concurrent senders never send an entry twice", async () => {
    const t = makeEngine(transport);
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    await t.engine.enqueueBatch(ids.map((id) => ({ id, payload: {}, callbackUrl: `${hooks.url}${pathFor(t, id)}` })));
    const claimed = await t.engine.claimBatch({ workerId: "w", count: 40 });
    const acks = await t.engine.ackMany(claimed.jobs.map((c) => ({ jobId: c.job.id, token: c.lease.token, result: c.job.id })));
    expect(acks.outcomes.every((o) => o.ok && o.callbackUrl)).toBe(true);
    // three senders at once (separate notifiers: no in-process dedup to hide a double send)
    const senders = [notifyFor(t.engine, t.clock.now), notifyFor(t.engine, t.clock.now), notifyFor(t.engine, t.clock.now)];
    const reports = (await Promise.all(senders.map((s, i) => deliverCallbacks(s, { sender: `s${i}`, limit: 7 })))).flat();
    expect(reports).toHaveLength(40);
    for (const id of ids) expect(received(pathFor(t, id))).toMatchObject([{ jobId: id, outcome: "completed", result: id, attempts: 1 }]);
    expect(await afterAck(senders[0]!, { jobId: "c0", ack: { callbackUrl: "x" } })).toEqual([]); // nothing left
  });

  it("an API request sends one small batch at most; a backlog is left to maintenance", async () => {
    const t = makeEngine(transport);
    const ids = Array.from({ length: 30 }, (_, i) => `b${i}`);
    await t.engine.enqueueBatch(ids.map((id) => ({ id, payload: {}, callbackUrl: `${hooks.url}${pathFor(t, id)}` })));
    const claimed = await t.engine.claimBatch({ workerId: "w", count: 30 });
    await t.engine.ackMany(claimed.jobs.map((c) => ({ jobId: c.job.id, token: c.lease.token })));
    const api = await afterAck(notifyFor(t.engine, t.clock.now), { jobId: "b29", ack: { callbackUrl: "queued" } });
    expect(api).toHaveLength(20);
    const run = await runMaintenance({ engine: t.engine, redis: t.port, notify: notifyFor(t.engine, t.clock.now), now: t.clock.now, log: memoryLogger() }, { at: t.clock.now() + 30_000 });
    expect(run.deliveries.filter((d) => d.kind === "callback")).toHaveLength(10);
    for (const id of ids) expect(received(pathFor(t, id))).toHaveLength(1);
  });

  it("a failed send stays queued and is retried; after maxDeliveries it is dropped with an error log", async () => {
    const t = makeEngine(transport);
    const path = pathFor(t, "flaky");
    await t.engine.enqueue({ id: "f", payload: {}, callbackUrl: `${hooks.url}${path}` });
    const c = await t.engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("empty");
    await t.engine.ack("f", c.lease.token, 7);
    hooks.respond((req) => (req.path === path ? { status: 503, body: "down" } : { status: 200, body: "{}" }));
    const ctx = notifyFor(t.engine, t.clock.now);
    try {
      expect((await deliverCallbacks(ctx, { maxDeliveries: 3 }))[0]!.result.ok).toBe(false);
      expect(await deliverCallbacks(ctx, { maxDeliveries: 3 })).toEqual([]); // not retried before retryAfterMs
      expect((await deliverCallbacks(ctx, { retryAfterMs: 0, maxDeliveries: 3 }))[0]!.result.ok).toBe(false);
      expect((await deliverCallbacks(ctx, { retryAfterMs: 0, maxDeliveries: 3 }))[0]!.result.ok).toBe(false);
      expect(await deliverCallbacks(ctx, { retryAfterMs: 0, maxDeliveries: 3 })).toEqual([]); // third take was the last
    } finally {
      hooks.respond(() => ({ status: 200, body: "{}" }));
    }
    expect(hooks.requests.filter((r) => r.path === path)).toHaveLength(3);
    expect(ctx.log.records).toContainEqual(expect.objectContaining({ level: "error", event: "notify.callback_dropped", jobId: "f", outcome: "completed", deliveries: 3 }));
    expect(await rawRedis().xlen(t.engine.keys.callbacks())).toBe(0);
  });

  it("a lease that expires for good queues dead_lettered for maintenance; a job whose record is gone is dropped with a warning", async () => {
    const t = makeEngine(transport);
    await t.engine.enqueueBatch([
      { id: "lost", payload: {}, maxRetries: 0, callbackUrl: `${hooks.url}${pathFor(t, "lost")}` },
      { id: "gone", payload: {}, callbackUrl: `${hooks.url}${pathFor(t, "gone")}` },
    ]);
    const lost = await t.engine.claim({ workerId: "vanished", leaseMs: 5_000 });
    const gone = await t.engine.claim({ workerId: "w" });
    if (lost.status !== "claimed" || gone.status !== "claimed") throw new Error("empty");
    await t.engine.ack("gone", gone.lease.token, null);
    await rawRedis().del(t.engine.keys.job("gone"));
    t.clock.advance(5_000);
    const ctx = notifyFor(t.engine, t.clock.now);
    const run = await runMaintenance({ engine: t.engine, redis: t.port, notify: ctx, now: t.clock.now, log: memoryLogger() }, { at: t.clock.now() + 30_000 });
    expect(run.tick.reclaimed).toBe(1);
    expect(received(pathFor(t, "lost"))).toMatchObject([{ jobId: "lost", outcome: "dead_lettered", attempts: 1, error: { code: "lease_expired" } }]);
    expect(received(pathFor(t, "gone"))).toEqual([]);
    expect(ctx.log.records).toContainEqual(expect.objectContaining({ level: "warn", event: "notify.callback_record_gone", jobId: "gone" }));
    expect(await t.engine.takeCallbacks({ retryAfterMs: 0 })).toEqual({ callbacks: [], dropped: [] });
  });

  it("rejects bad outbox arguments without touching Redis", async () => {
    const t = makeEngine(transport);
    await expect(t.engine.takeCallbacks({ sender: "bad sender!" })).rejects.toThrow(/sender/);
    await expect(t.engine.takeCallbacks({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(t.engine.takeCallbacks({ maxDeliveries: 0 })).rejects.toThrow(/maxDeliveries/);
    await expect(t.engine.settleCallbacks(["not-an-id"])).rejects.toThrow(/outbox entry id/);
    expect(await t.engine.settleCallbacks([])).toBe(0);
    expect(await rawRedis().exists(t.engine.keys.callbacks())).toBe(0);
  });
});

describe("the callback outbox's bound", () => {
  it("keeps about 100 000 unsent callbacks at most: past that the oldest go", async () => {
    const t = makeEngine("tcp");
    const key = t.engine.keys.callbacks();
    // 100 500 callbacks nobody sent (notifications off everywhere), written straight into the stream
    await rawRedis().eval("for i = 1, 100500 do redis.call('XADD', KEYS[1], '*', 'id', 'old' .. i, 'o', 'completed', 'q', 'default', 'a', 1, 'u', 'http://127.0.0.1:9/x', 't', 0) end", 1, key);
    await t.engine.enqueue({ id: "new", payload: {}, callbackUrl: `${hooks.url}/bound/new` });
    const c = await t.engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("empty");
    await t.engine.ack("new", c.lease.token, null);
    const len = await rawRedis().xlen(key);
    expect(len).toBeLessThan(100500);
    expect(len).toBeGreaterThanOrEqual(100000);
    const [[, newest]] = (await rawRedis().xrevrange(key, "+", "-", "COUNT", 1)) as [[string, string[]]];
    expect(newest.slice(0, 2)).toEqual(["id", "new"]); // the newest is kept
    await rawRedis().del(key);
  });
});
