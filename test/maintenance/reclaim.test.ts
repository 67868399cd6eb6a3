import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createNotifyContext,
  DEFAULT_QUEUES,
  Engine,
  httpNotifier,
  memoryLogger,
  notifyConfigFromEnv,
  pruneConsumers,
  runMaintenance,
  type MaintenanceDeps,
  type NotifyContext,
} from "../../packages/core/src/index.ts";
import { makeEngine, manualClock, openPort, rawRedis, TRANSPORTS, type TestEngine } from "../support/engines.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";

let hooks: HttpStub;
beforeAll(async () => {
  hooks = await startHttpStub();
});
afterAll(() => hooks.close());

const quiet = memoryLogger();

function notifyFor(t: TestEngine, path: string): NotifyContext {
  const ctx = createNotifyContext({
    config: notifyConfigFromEnv({ WORKSTREAM_NOTIFY_MODE: "http", WORKSTREAM_DLQ_WEBHOOK_URL: `${hooks.url}/${path}/dlq` }),
    jobs: t.engine,
    queueNames: t.engine.queues.ordered.map((q) => q.name),
    notifier: httpNotifier({ attempts: 1 }),
    now: t.clock.now,
    log: quiet,
  });
  if (!ctx) throw new Error("notifications are off");
  return ctx;
}

const deps = (t: TestEngine, notify: NotifyContext | null = null): MaintenanceDeps => ({ engine: t.engine, redis: t.port, notify, now: t.clock.now, log: quiet });
const at = (t: TestEngine) => ({ at: t.clock.now() + 30_000 }); // a minute that is not a 10th or 30th: no TTL scan, trim or prune

describe.each(TRANSPORTS)("scheduled maintenance over %s", (transport) => {
  it("re-delivers a vanished worker's job once, then dead-letters it after max attempts (one alert, one callback)", async () => {
    const t = makeEngine(transport);
    const path = `vanish-${transport}`;
    const notify = notifyFor(t, path);
    await t.engine.enqueue({ id: "j", payload: {}, maxRetries: 1, retry: { kind: "fixed", intervalsMs: [0] }, callbackUrl: `${hooks.url}/${path}/cb` });

    const first = await t.engine.claim({ workerId: "gone-1", leaseMs: 10_000 });
    expect(first).toMatchObject({ status: "claimed", job: { attempt: 1 } });
    t.clock.advance(10_000);
    expect((await runMaintenance(deps(t, notify), at(t))).tick).toMatchObject({ reclaimed: 1 });
    expect((await runMaintenance(deps(t, notify), at(t))).tick).toMatchObject({ reclaimed: 0 });

    const second = await t.engine.claim({ workerId: "gone-2", leaseMs: 10_000 });
    expect(second).toMatchObject({ status: "claimed", job: { id: "j", attempt: 2 } });
    expect(await t.engine.claim({ workerId: "other" })).toMatchObject({ status: "empty" });
    t.clock.advance(10_000);
    const run = await runMaintenance(deps(t, notify), at(t));
    expect(run.tick.reclaimed).toBe(1);
    expect(await t.engine.getJob("j")).toMatchObject({ status: "failed", attempts: 2, deadLetter: { reason: "lease_expired" } });
    expect(run.deadLetters).toMatchObject([{ id: "j", queue: "default", reason: "lease_expired", attempts: 2, error: { code: "lease_expired" } }]);

    await runMaintenance(deps(t, notify), at(t));
    await runMaintenance(deps(t, notify), at(t));
    const mine = hooks.requests.filter((r) => r.path.startsWith(`/${path}/`));
    expect(mine.map((r) => r.path).sort()).toEqual([`/${path}/cb`, `/${path}/dlq`]);
    expect(JSON.parse(mine.find((r) => r.path.endsWith("/cb"))!.body)).toMatchObject({ jobId: "j", queue: "default", outcome: "dead_lettered", attempts: 2, error: { code: "lease_expired" } });
    expect(JSON.parse(mine.find((r) => r.path.endsWith("/dlq"))!.body)).toMatchObject({ type: "dlq_entry", jobId: "j", reason: "lease_expired" });
  });

  it("two concurrent runs over two transports never double-deliver: N expired leases, each job redelivered once", async () => {
    const a = makeEngine(transport);
    const clock = a.clock;
    const other = transport === "tcp" ? "upstash" : "tcp";
    const bPort = openPort(other);
    const b = { ...a, port: bPort, engine: new Engine({ redis: bPort, settings: { keyPrefix: a.prefix }, now: clock.now, random: () => 0.5 }) };
    const N = 30;
    await a.engine.enqueueBatch(Array.from({ length: N }, (_, i) => ({ id: `c${i}`, payload: { i }, retry: { kind: "fixed" as const, intervalsMs: [0] } })));
    for (let i = 0; i < N; i++) expect((await a.engine.claim({ workerId: `w${i % 3}`, leaseMs: 5_000 })).status).toBe("claimed");
    clock.advance(5_000);

    const [ra, rb] = await Promise.all([runMaintenance(deps(a), at(a)), runMaintenance(deps(b), at(a))]);
    expect(ra.tick.reclaimed + rb.tick.reclaimed).toBe(N);

    const seen = new Map<string, number>();
    for (let i = 0; i < N + 5; i++) {
      const c = await (i % 2 ? a : b).engine.claim({ workerId: "survivor" });
      if (c.status === "empty") break;
      expect(c.job.attempt).toBe(2);
      seen.set(c.job.id, (seen.get(c.job.id) ?? 0) + 1);
    }
    expect(seen.size).toBe(N);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(await rawRedis().hget(`${a.prefix}{default}:counters`, "retried")).toBe(String(N));
  });

  it("enqueues due recurring schedules; a schedule whose queue is gone is logged and the others still fire", async () => {
    const clock = manualClock(Date.parse("2026-12-04T10:00:30Z"));
    const tmp = { ...DEFAULT_QUEUES.find((q) => q.name === "default")!, name: "tmp", rank: 50 };
    const withTmp = makeEngine(transport, { queues: [...DEFAULT_QUEUES, tmp] }, clock);
    await withTmp.engine.putSchedule({ name: "on-tmp", cron: "* * * * *", job: { payload: {}, queue: "tmp" } });
    await withTmp.engine.putSchedule({ name: "on-default", cron: "* * * * *", job: { payload: { ok: true } } });
    // the same keys, configured without the "tmp" queue (it was removed from WORKSTREAM_QUEUE_CONFIG)
    const t: TestEngine = { ...withTmp, engine: new Engine({ redis: withTmp.port, settings: { keyPrefix: withTmp.prefix }, now: clock.now }) };
    const log = memoryLogger();
    clock.set(Date.parse("2026-12-04T10:01:05Z"));
    const report = await runMaintenance({ ...deps(t), log }, { at: clock.now() });
    expect(report.tick.scheduled).toHaveLength(1);
    expect((await t.engine.getJob(`on-default:${Date.parse("2026-12-04T10:01:00Z")}`)).payload).toEqual({ ok: true });
    expect(log.records).toContainEqual(expect.objectContaining({ level: "error", event: "schedule.fire_failed", schedule: "on-tmp", error: expect.stringContaining("tmp") }));
    expect(log.records).toContainEqual(expect.objectContaining({ event: "maintenance.run", scheduled: 1 }));
  });

  it("never reclaims a job whose worker keeps heartbeating", async () => {
    const t = makeEngine(transport);
    await t.engine.enqueue({ id: "hb", payload: {} });
    const c = await t.engine.claim({ workerId: "alive", leaseMs: 30_000 });
    if (c.status !== "claimed") throw new Error("no job");
    for (let i = 0; i < 8; i++) {
      t.clock.advance(20_000);
      await t.engine.heartbeat("hb", c.lease.token);
      expect((await runMaintenance(deps(t), { at: Date.UTC(2026, 0, 1, 0, 10 * i) })).tick.reclaimed).toBe(0);
    }
    expect(await t.engine.getJob("hb")).toMatchObject({ status: "active", attempts: 1, leaseToken: c.lease.token });
    await t.engine.ack("hb", c.lease.token, "done");
  });
});

describe("consumer cleanup", () => {
  it("removes idle consumers without pending entries and keeps those with pending entries until their lease is reclaimed", async () => {
    const t = makeEngine("tcp");
    const stream = `${t.prefix}{default}:ready:autonomous`;
    await t.engine.enqueueBatch([{ id: "p1", payload: {}, retry: { kind: "fixed", intervalsMs: [0] } }, { id: "p2", payload: {} }]);
    const held = await t.engine.claim({ workerId: "crashed", leaseMs: 5_000 });
    const done = await t.engine.claim({ workerId: "finished" });
    if (held.status !== "claimed" || done.status !== "claimed") throw new Error("no job");
    await t.engine.ack(done.job.id, done.lease.token, null);

    expect(await pruneConsumers(deps(t), { idleMs: 3_600_000 })).toMatchObject({ removed: [], keptWithPending: 1 });
    const pruned = await pruneConsumers(deps(t), { idleMs: 0 });
    expect(pruned).toMatchObject({ removed: [{ stream, consumer: "finished" }], keptWithPending: 1 });
    const names = async () => ((await rawRedis().xinfo("CONSUMERS", stream, "workers")) as unknown[][]).map((c) => c[1]);
    expect(await names()).toEqual(["crashed"]);

    // its lease expires: reclaim acks the entry, the job is redelivered, and only then does the consumer go
    t.clock.advance(5_000);
    const run = await runMaintenance(deps(t), { at: Date.UTC(2026, 0, 1, 0, 0), consumerIdleMs: 0 });
    expect(run.tick.reclaimed).toBe(1);
    expect(run.consumers?.removed.map((r) => r.consumer)).toEqual(["crashed"]);
    expect(await t.engine.claim({ workerId: "next" })).toMatchObject({ status: "claimed", job: { id: held.job.id, attempt: 2 } });
    expect(await names()).toEqual(["next"]);
  });

  it("runs the every-30th-minute steps only on those minutes", async () => {
    const t = makeEngine("tcp", {}, manualClock());
    const on = await runMaintenance(deps(t), { at: Date.UTC(2026, 0, 1, 0, 30) });
    const off = await runMaintenance(deps(t), { at: Date.UTC(2026, 0, 1, 0, 20) });
    expect([on.trimmed, on.consumers !== null, off.trimmed, off.consumers]).toEqual([true, true, false, null]);
  });
});
