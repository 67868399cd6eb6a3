import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  afterAck,
  afterEnqueue,
  afterFail,
  createNotifyContext,
  deliverCallbacks,
  memoryLogger,
  notifyConfigFromEnv,
  OutcomeMessage,
  PushMessage,
  qstashNotifier,
  runMaintenance,
  type NotifyContext,
} from "../../packages/core/src/index.ts";
import { makeEngine, type TestEngine } from "../support/engines.ts";
import { startHttpStub, type HttpStub, type RecordedRequest } from "../support/http-stub.ts";

let qstash: HttpStub;
let n = 0;
beforeAll(async () => {
  qstash = await startHttpStub(() => ({ status: 201, body: JSON.stringify({ messageId: `msg_${++n}` }) }));
});
afterAll(() => qstash.close());
beforeEach(() => void qstash.requests.splice(0));

const HOOK = "https://hooks.example.com/workstream";
const WORKER = "https://worker.example.com/v1/push";

function context(t: TestEngine, env: Record<string, string> = {}): NotifyContext {
  const ctx = createNotifyContext({
    config: notifyConfigFromEnv({ QSTASH_TOKEN: "test-token", QSTASH_URL: qstash.url, ...env }),
    jobs: t.engine,
    queueNames: t.engine.queues.ordered.map((q) => q.name),
    notifier: qstashNotifier({ token: "test-token", baseUrl: qstash.url, apiRetries: 0 }),
    now: t.clock.now,
    log: memoryLogger(),
  });
  if (!ctx) throw new Error("off");
  return ctx;
}

const published = (dest: string): RecordedRequest[] => qstash.requests.filter((r) => r.method === "POST" && r.path === `/v2/publish/${dest}`);

describe("QStash delivery", () => {
  it("fires a job's callback once per outcome, with the deduplication id, retries and forwarded headers", async () => {
    const t = makeEngine("tcp");
    const ctx = context(t);
    const cb = `${HOOK}/cb-1`;
    await t.engine.enqueue({ id: "cb1", payload: {}, callbackUrl: cb, retry: { kind: "fixed", intervalsMs: [0] } });

    const c1 = await t.engine.claim({ workerId: "w" });
    if (c1.status !== "claimed") throw new Error("empty");
    const error = { name: "Flaky", message: "try again" };
    const f = await t.engine.fail("cb1", c1.lease.token, { error });
    expect(await afterFail(ctx, { jobId: "cb1", fail: f, queue: c1.job.queue, attempts: c1.job.attempt })).toEqual([]); // retried: no outcome yet

    const c2 = await t.engine.claim({ workerId: "w" });
    if (c2.status !== "claimed") throw new Error("empty");
    t.clock.advance(1500);
    const ack = await t.engine.ack("cb1", c2.lease.token, { answer: 42 });
    const [report] = await afterAck(ctx, { jobId: "cb1", ack }); // sent from the outbox the ack wrote to
    const dedup = `cb1:completed:${t.clock.now()}`; // per finish: a replayed job that finishes again is called back again
    expect(report).toMatchObject({ kind: "callback", deduplicationId: dedup, result: { ok: true } });

    const sent = published(cb);
    expect(sent).toHaveLength(1);
    const h = sent[0]!.headers;
    expect(h["authorization"]).toBe("Bearer test-token");
    expect(h["upstash-deduplication-id"]).toBe(dedup);
    expect(h["upstash-retries"]).toBe("3");
    expect(h["upstash-forward-workstream-event"]).toBe("job.completed");
    expect(h["upstash-forward-workstream-delivery-id"]).toBe(dedup);
    expect(OutcomeMessage.parse(JSON.parse(sent[0]!.body))).toEqual({
      jobId: "cb1", queue: "default", outcome: "completed", result: { answer: 42 }, attempts: 2, finishedAt: new Date(t.clock.now()).toISOString(),
    });
    expect(qstash.requests).toHaveLength(1);
  });

  it("sends failed for a non-retryable error and dead_lettered when retries run out; a job without callback_url sends nothing", async () => {
    const t = makeEngine("upstash");
    const ctx = context(t);
    await t.engine.enqueueBatch([
      { id: "nr", payload: {}, callbackUrl: `${HOOK}/nr` },
      { id: "ex", payload: {}, callbackUrl: `${HOOK}/ex`, maxRetries: 0 },
      { id: "none", payload: {}, maxRetries: 0 },
    ]);
    for (const [id, retryable] of [["nr", false], ["ex", true], ["none", true]] as const) {
      const c = await t.engine.claim({ workerId: "w" });
      if (c.status !== "claimed" || c.job.id !== id) throw new Error(`expected ${id}`);
      const error = { name: "E", message: `${id} broke`, code: "E_BROKE" };
      const f = await t.engine.fail(id, c.lease.token, { error, retryable });
      await afterFail(ctx, { jobId: id, fail: f });
    }
    expect(published(`${HOOK}/nr`).map((r) => JSON.parse(r.body))).toMatchObject([{ jobId: "nr", outcome: "failed", attempts: 1, error: { message: "nr broke", code: "E_BROKE" } }]);
    expect(published(`${HOOK}/nr`)[0]!.headers["upstash-deduplication-id"]).toBe(`nr:failed:${t.clock.now()}`);
    expect(published(`${HOOK}/ex`).map((r) => JSON.parse(r.body))).toMatchObject([{ jobId: "ex", outcome: "dead_lettered" }]);
    expect(qstash.requests).toHaveLength(2);

    // replayed from the DLQ and dead-lettered again: a new outcome, a new deduplication id
    t.clock.advance(5_000);
    expect(await t.engine.dlqReplay(["ex"])).toEqual([{ id: "ex", outcome: "replayed" }]);
    const c = await t.engine.claim({ workerId: "w" });
    if (c.status !== "claimed" || c.job.id !== "ex") throw new Error("expected ex");
    await afterFail(ctx, { jobId: "ex", fail: await t.engine.fail("ex", c.lease.token, { error: { message: "ex broke again" } }) });
    const ids = published(`${HOOK}/ex`).map((r) => r.headers["upstash-deduplication-id"]);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(ids[1]).toBe(`ex:dead_lettered:${t.clock.now()}`);
  });

  it("push mode: one delivery per new job with flow control, retries re-announced not before their due time, waiting work nudged", async () => {
    const t = makeEngine("tcp");
    const ctx = context(t, { WORKSTREAM_PUSH_QUEUES: JSON.stringify({ default: { url: WORKER, parallelism: 2, retries: 5 } }) });
    const results = await t.engine.enqueueBatch([
      { id: "p1", payload: {}, retry: { kind: "fixed", intervalsMs: [30_000] } },
      { id: "p2", payload: {} },
      { id: "p3", payload: {} },
      { id: "hp", payload: {}, queue: "high_priority" },
    ]);
    const again = await t.engine.enqueueBatch([{ id: "p1", payload: {} }]);
    await afterEnqueue(ctx, [...results, ...again]);
    const pushes = published(WORKER);
    expect(pushes.map((r) => PushMessage.parse(JSON.parse(r.body)))).toEqual(["p1", "p2", "p3"].map((jobId) => ({ jobId, queue: "default", reason: "enqueued" })));
    for (const p of pushes) {
      expect(p.headers["upstash-flow-control-key"]).toBe("workstream-default");
      expect(p.headers["upstash-flow-control-value"]).toBe("parallelism=2");
      expect(p.headers["upstash-retries"]).toBe("5");
      expect(p.headers["upstash-forward-workstream-event"]).toBe("job.push");
    }
    expect(pushes.map((p) => p.headers["upstash-deduplication-id"])).toEqual(["p1:push:a0", "p2:push:a0", "p3:push:a0"]);

    // the HTTP worker claims p1 and fails it: it is retried in 30 s, announced for then
    const hp = await t.engine.claim({ workerId: "http", queues: ["default"] });
    if (hp.status !== "claimed") throw new Error("empty");
    const error = { message: "later" };
    const f = await t.engine.fail(hp.job.id, hp.lease.token, { error });
    expect(f.outcome).toBe("retrying");
    await afterFail(ctx, { jobId: hp.job.id, fail: f, queue: "default", attempts: hp.job.attempt });
    const retry = published(WORKER).at(-1)!;
    expect(JSON.parse(retry.body)).toEqual({ jobId: "p1", queue: "default", reason: "retry" });
    expect(retry.headers["upstash-not-before"]).toBe(String(Math.ceil(f.nextAttemptAt! / 1000)));
    expect(retry.headers["upstash-deduplication-id"]).toBe(`p1:push:a1:${f.nextAttemptAt}`);

    // p2 and p3 wait past the nudge threshold: maintenance re-announces up to `parallelism`, once per minute
    t.clock.advance(61_000);
    const before = published(WORKER).length;
    const at = Date.UTC(2026, 0, 1, 0, 1);
    await runMaintenance({ engine: t.engine, redis: t.port, notify: ctx, now: t.clock.now, log: memoryLogger() }, { at });
    const nudges = published(WORKER).slice(before);
    expect(nudges.map((r) => JSON.parse(r.body))).toEqual([{ jobId: null, queue: "default", reason: "nudge" }, { jobId: null, queue: "default", reason: "nudge" }]);
    expect(nudges.map((r) => r.headers["upstash-deduplication-id"])).toEqual([`default:nudge:${at / 60_000}:0`, `default:nudge:${at / 60_000}:1`]);

    // a recurring schedule's run on a push queue is announced by the maintenance run that fires it
    await t.engine.putSchedule({ name: "push-sched", cron: "* * * * *", job: { payload: { s: 1 } } });
    t.clock.advance(60_000);
    const beforeSched = published(WORKER).length;
    const run = Math.floor(t.clock.now() / 60_000) * 60_000;
    const report = await runMaintenance({ engine: t.engine, redis: t.port, notify: ctx, now: t.clock.now, log: memoryLogger() }, { at: at + 60_000 });
    expect(report.tick.scheduled).toHaveLength(1);
    const announced = published(WORKER).slice(beforeSched).filter((r) => JSON.parse(r.body).reason === "enqueued");
    expect(announced.map((r) => JSON.parse(r.body))).toEqual([{ jobId: `push-sched:${run}`, queue: "default", reason: "enqueued" }]);
    expect(announced[0]!.headers["upstash-deduplication-id"]).toBe(`push-sched:${run}:push:a0`);
  });

  it("reports a QStash API failure as a value and logs it; the callback stays queued and is sent on a later try", async () => {
    const t = makeEngine("tcp");
    const ctx = context(t);
    await t.engine.enqueue({ id: "x", payload: {}, callbackUrl: `${HOOK}/x` });
    const c = await t.engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("empty");
    const ack = await t.engine.ack("x", c.lease.token, "fine");
    qstash.respond(() => ({ status: 500, body: JSON.stringify({ error: "down" }) }));
    try {
      const [r] = await afterAck(ctx, { jobId: "x", ack });
      expect(r!.result).toMatchObject({ ok: false });
      expect((ctx.log as ReturnType<typeof memoryLogger>).records).toContainEqual(expect.objectContaining({ level: "error", event: "notify.delivery_failed" }));
    } finally {
      qstash.respond(() => ({ status: 201, body: JSON.stringify({ messageId: `msg_${++n}` }) }));
    }
    expect(await deliverCallbacks(ctx)).toEqual([]); // not yet: a failed send is retried after retryAfterMs (60 s)
    const [again] = await deliverCallbacks(ctx, { retryAfterMs: 0 });
    expect(again).toMatchObject({ kind: "callback", deduplicationId: `x:completed:${t.clock.now()}`, result: { ok: true } });
    expect(JSON.parse(published(`${HOOK}/x`).at(-1)!.body)).toMatchObject({ jobId: "x", outcome: "completed", result: "fine" });
    expect(await deliverCallbacks(ctx, { retryAfterMs: 0 })).toEqual([]); // settled: gone from the outbox
  });

  it("rejects push queues the engine does not know, naming the variable", () => {
    const t = makeEngine("tcp");
    expect(() =>
      createNotifyContext({
        config: notifyConfigFromEnv({ WORKSTREAM_PUSH_QUEUES: JSON.stringify({ nope: { url: WORKER } }) }),
        jobs: t.engine,
        queueNames: t.engine.queues.ordered.map((q) => q.name),
      }),
    ).toThrow(/WORKSTREAM_PUSH_QUEUES.*nope/);
  });
});
