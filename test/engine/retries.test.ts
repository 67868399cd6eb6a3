import { describe, expect, it } from "vitest";
import { retryDelayMs, SEED1_INTERVALS, SEED2_BACKOFF, WorkOrderMessage, workOrderRequest } from "../../packages/core/src/index.ts";
import { TRANSPORTS, makeEngine, rawRedis } from "../support/engines.ts";

type E = ReturnType<typeof makeEngine>["engine"];
async function claimOne(engine: E, workerId = "w") {
  const c = await engine.claim({ workerId });
  if (c.status !== "claimed") throw new Error("expected a job");
  return c;
}

describe("retry delays (pure)", () => {
  it("seed 2: base 1 s, ×2, cap 300 s, ±20 % jitter", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(SEED2_BACKOFF, a, 0))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(SEED2_BACKOFF, 1, 1)).toBe(1200);
    expect(retryDelayMs(SEED2_BACKOFF, 1, -1)).toBe(800);
    expect(retryDelayMs(SEED2_BACKOFF, 20, 0)).toBe(300_000);
    expect(retryDelayMs(SEED2_BACKOFF, 20, 1)).toBe(300_000);
  });
  it("seed 1: fixed 60/180/600 s, the last repeating", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(SEED1_INTERVALS, a, 0.9))).toEqual([60_000, 180_000, 600_000, 600_000]);
  });
});

describe.each(TRANSPORTS)("retries and dead-lettering over %s", (transport) => {
  it("a work order is delivered with its retry_count counting the retries made here; the stored message keeps its own", async () => {
    const { engine, clock } = makeEngine(transport);
    const wo = WorkOrderMessage.parse({
      id: "m-rc", task_id: "t-rc", work_order_id: "wo-rc", task_type: "bugfix", permission_level: "autonomous", priority: "normal",
      repository_url: "https://github.com/acme/app", branch_name: "fix", title: "Fix", description: "", created_at: "2026-12-04T12:00:00Z",
      max_retries: 3, retry_count: 1, // retried once before it reached this queue: 2 retries left here
    });
    await engine.enqueue(workOrderRequest(wo));
    const counts: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const c = await claimOne(engine);
      expect(c.job).toMatchObject({ id: "wo-rc", attempt, maxAttempts: 3 });
      counts.push((c.job.payload as { retry_count: number }).retry_count);
      await engine.fail("wo-rc", c.lease.token, { error: { message: "flaky" }, retryable: true });
      clock.advance(3_600_000);
    }
    expect(counts).toEqual([1, 2, 3]); // = max_retries on the last attempt
    expect((await engine.getJob("wo-rc")).status).toBe("failed");
    expect(((await engine.getJob("wo-rc")).payload as { retry_count: number }).retry_count).toBe(1);
  });

  it("retries with seed 2's backoff (jitter applied), then dead-letters after max attempts with the attempt history", async () => {
    const { engine, clock, randoms } = makeEngine(transport);
    await engine.enqueue({ id: "r1", priority: "low", payload: {} }); // low_priority: 2 retries → 3 attempts
    const expected = [
      { random: 0.5, delay: 1000 }, // jitter 0
      { random: 1.0, delay: 2400 }, // jitter +1 → +20 %
    ];
    for (const [i, step] of expected.entries()) {
      const c = await claimOne(engine);
      expect(c.job.attempt).toBe(i + 1);
      randoms.push(step.random);
      const f = await engine.fail("r1", c.lease.token, { error: { name: "Error", message: `upstream 503 #${i + 1}` } });
      expect(f).toMatchObject({ outcome: "retrying", nextAttemptAt: clock.now() + step.delay });
      expect((await engine.getJob("r1")).status).toBe("retrying");
      clock.advance(step.delay - 1);
      expect(await engine.claim({ workerId: "w" })).toMatchObject({ status: "empty", nextTimerAt: clock.now() + 1 });
      clock.advance(1);
    }
    const last = await claimOne(engine);
    expect(last.job.attempt).toBe(3);
    expect(last.job.lastError).toMatchObject({ message: "upstream 503 #2" });
    const f = await engine.fail("r1", last.lease.token, { error: { name: "Error", message: "upstream 503 #3", stack: "Error: upstream\n at x" } });
    expect(f.outcome).toBe("dead_lettered");
    const job = await engine.getJob("r1");
    expect(job).toMatchObject({ status: "failed", attempts: 3, deadLetter: { reason: "max_attempts" }, error: { message: "upstream 503 #3", stack: "Error: upstream\n at x" } });
    expect(job.history.filter((h) => h.error).map((h) => [h.attempt, h.error])).toEqual([
      [1, "upstream 503 #1"], [2, "upstream 503 #2"], [3, "upstream 503 #3"],
    ]);
    expect(await rawRedis().zscore(engine.keys.dlq("low_priority"), "r1")).toBe(String(clock.now()));
    const stats = (await engine.stats(["low_priority"]))[0]!;
    expect(stats).toMatchObject({ dlq: 1, failed: 1, pending: 0, started: 0, scheduled: 0 });
    expect(stats.totals).toMatchObject({ enqueued: 1, retried: 2, failed: 1 });
  });

  it("fixed intervals per job (seed 1)", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "f1", payload: {}, retry: { kind: "fixed", intervalsMs: [60_000, 180_000, 600_000] } });
    let c = await claimOne(engine);
    expect((await engine.fail("f1", c.lease.token, { error: { message: "boom" } })).nextAttemptAt).toBe(clock.now() + 60_000);
    clock.advance(60_000);
    c = await claimOne(engine);
    expect((await engine.fail("f1", c.lease.token, { error: { message: "boom" } })).nextAttemptAt).toBe(clock.now() + 180_000);
  });

  it("a non-retryable error dead-letters at once, whatever attempts remain", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "nr", payload: {} });
    const c = await claimOne(engine);
    const f = await engine.fail("nr", c.lease.token, { error: { name: "ValidationError", message: "bad repo url" }, retryable: false });
    expect(f.outcome).toBe("dead_lettered");
    expect(await engine.getJob("nr")).toMatchObject({ status: "failed", attempts: 1, deadLetter: { reason: "non_retryable" } });
  });

  it("without `retryable`, the error is classified as seed 2 says (HTTP workers in any language report errors by name)", async () => {
    const { engine } = makeEngine(transport);
    const cases = [
      [{ name: "ValueError", message: "bad literal" }, "dead_lettered"],
      [{ name: "KeyError", message: "'repo'" }, "dead_lettered"],
      [{ name: "TypeError", message: "x is not a function" }, "dead_lettered"],
      [{ name: "RuntimeError", message: "validation failed: invalid input" }, "dead_lettered"],
      [{ name: "ConnectionError", message: "connection reset" }, "retrying"],
      [{ message: "upstream returned 503" }, "retrying"],
    ] as const;
    for (const [i, [error, outcome]] of cases.entries()) {
      await engine.enqueue({ id: `c${i}`, payload: {} });
      const c = await claimOne(engine);
      expect((await engine.fail(`c${i}`, c.lease.token, { error })).outcome, error.message).toBe(outcome);
    }
    // an explicit flag wins over the classification, both ways
    await engine.enqueueBatch([{ id: "force-retry", payload: {} }, { id: "force-dlq", payload: {} }]);
    const a = await claimOne(engine);
    expect((await engine.fail(a.job.id, a.lease.token, { error: { name: "ValueError", message: "flaky parser" }, retryable: true })).outcome).toBe("retrying");
    const b = await claimOne(engine);
    expect((await engine.fail(b.job.id, b.lease.token, { error: { message: "timeout" }, retryable: false })).outcome).toBe("dead_lettered");
  });

  it("retryAfterMs overrides the policy; a zero delay makes the job pending at once", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "ra", payload: {} });
    let c = await claimOne(engine);
    expect((await engine.fail("ra", c.lease.token, { error: { message: "429" }, retryAfterMs: 30_000 })).nextAttemptAt).toBe(clock.now() + 30_000);
    clock.advance(30_000);
    c = await claimOne(engine);
    expect((await engine.fail("ra", c.lease.token, { error: { message: "flaky" }, retryAfterMs: 0 })).outcome).toBe("pending");
    expect((await claimOne(engine)).job.attempt).toBe(3);
  });

  it("release gives the job back without counting the attempt", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "rel", payload: {} });
    const c = await claimOne(engine, "w1");
    expect(await engine.release("rel", c.lease.token)).toEqual({ status: "pending" });
    const again = await claimOne(engine, "w2");
    expect(again.job.attempt).toBe(1);
    expect(again.lease.token).toBe(2);
    expect(await engine.release("rel", again.lease.token, { delayMs: 5000 })).toEqual({ status: "scheduled" });
    expect(await engine.claim({ workerId: "w3" })).toMatchObject({ status: "empty" });
    clock.advance(5000);
    expect((await claimOne(engine, "w3")).job.attempt).toBe(1);
  });
});
