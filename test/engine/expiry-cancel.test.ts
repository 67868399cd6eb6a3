import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, rawRedis } from "../support/engines.ts";

describe.each(TRANSPORTS)("TTL expiry, cancel and retention over %s", (transport) => {
  it("expires a job whose queue TTL passed before it started (maintenance tick)", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "old", priority: "high", payload: {} }); // high_priority TTL 1 h
    clock.advance(30 * 60_000);
    await engine.enqueue({ id: "young", priority: "high", payload: {} });
    clock.advance(30 * 60_000);
    expect(await engine.tick()).toMatchObject({ expired: 0 });
    clock.advance(1);
    expect(await engine.tick()).toMatchObject({ expired: 1 });
    const old = await engine.getJob("old");
    expect(old.status).toBe("expired");
    expect(old.expiresAt).not.toBeNull(); // kept for the failure TTL, then deleted
    const c = await engine.claim({ workerId: "w" });
    expect(c).toMatchObject({ status: "claimed", job: { id: "young" } });
    expect((await engine.stats(["high_priority"]))[0]!.totals).toMatchObject({ expired: 1 });
  });

  it("a claim expires a stale job instead of delivering it", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "stale", payload: {}, ttlSeconds: 10 });
    await engine.enqueue({ id: "fresh", payload: {}, ttlSeconds: 0 });
    clock.advance(10_001);
    expect(await engine.claim({ workerId: "w" })).toMatchObject({ status: "claimed", job: { id: "fresh" } });
    expect((await engine.getJob("stale")).status).toBe("expired");
  });

  it("cancels pending, scheduled and active jobs; a cancelled lease is lost; finished jobs refuse", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "p", payload: {} });
    await engine.enqueue({ id: "s", payload: {}, delayMs: 60_000 });
    await engine.enqueue({ id: "a", payload: {}, priority: "high" });
    const c = await engine.claim({ workerId: "w" });
    expect(c).toMatchObject({ status: "claimed", job: { id: "a" } });
    if (c.status !== "claimed") return;

    expect(await engine.cancel("p", "superseded")).toEqual({ previous: "pending" });
    expect(await engine.cancel("s")).toEqual({ previous: "scheduled" });
    expect(await engine.cancel("a")).toEqual({ previous: "active" });
    await expect(engine.ack("a", c.lease.token)).rejects.toMatchObject({ code: "lease_lost", details: { status: "cancelled" } });
    await expect(engine.cancel("a")).rejects.toMatchObject({ code: "not_cancellable" });
    expect(await engine.getJob("p")).toMatchObject({ status: "cancelled", cancelReason: "superseded" });

    clock.advance(120_000);
    expect(await engine.claim({ workerId: "w" })).toMatchObject({ status: "empty" });
    const [d, h] = await engine.stats(["default", "high_priority"]);
    expect(d).toMatchObject({ pending: 0, started: 0, scheduled: 0 });
    expect(h).toMatchObject({ pending: 0, started: 0 });
    expect(await rawRedis().xlen(engine.keys.ready("default", "autonomous"))).toBe(0);
  });

  it("keeps completed records for the result TTL and failed ones in the DLQ without expiry", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "ok", priority: "low", payload: {} });
    await engine.enqueue({ id: "bad", priority: "low", payload: {} });
    const a = await engine.claim({ workerId: "w" });
    const b = await engine.claim({ workerId: "w" });
    if (a.status !== "claimed" || b.status !== "claimed") throw new Error("expected two jobs");
    await engine.ack("ok", a.lease.token, 1);
    await engine.fail("bad", b.lease.token, { error: { message: "no" }, retryable: false });
    const okTtl = await rawRedis().pttl(engine.keys.job("ok"));
    expect(okTtl).toBeGreaterThan(12 * 3_600_000 - 5000); // low_priority result TTL 12 h
    expect(okTtl).toBeLessThanOrEqual(12 * 3_600_000);
    expect(await rawRedis().pttl(engine.keys.job("bad"))).toBe(-1); // kept until the DLQ is cleared
  });

  it("delayed jobs wait for their time, then run", async () => {
    const { engine, clock } = makeEngine(transport);
    const r = await engine.enqueue({ id: "later", payload: {}, delayMs: 5000 });
    expect(r.status).toBe("scheduled");
    expect(await engine.claim({ workerId: "w" })).toEqual({ status: "empty", nextTimerAt: clock.now() + 5000 });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ scheduled: 1, pending: 0 });
    clock.advance(5000);
    expect(await engine.tick()).toMatchObject({ promoted: 1 });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ scheduled: 0, pending: 1 });
    expect(await engine.claim({ workerId: "w" })).toMatchObject({ status: "claimed", job: { id: "later" } });
  });
});

describe.each(TRANSPORTS)("stats over %s", (transport) => {
  it("counts pending, started, scheduled, finished, failed, DLQ and the oldest pending age", async () => {
    const { engine, clock } = makeEngine(transport);
    for (let i = 0; i < 5; i++) {
      await engine.enqueue({ id: `j${i}`, payload: {} });
      clock.advance(1000);
    }
    await engine.enqueue({ id: "sup", payload: {}, permissionLevel: "supervised" });
    await engine.enqueue({ id: "later", payload: {}, delayMs: 60_000 });
    const c = [await engine.claim({ workerId: "w" }), await engine.claim({ workerId: "w" }), await engine.claim({ workerId: "w" })];
    const [c0, c1] = c;
    if (c0?.status !== "claimed" || c1?.status !== "claimed") throw new Error("claims failed");
    await engine.ack(c0.job.id, c0.lease.token);
    await engine.fail(c1.job.id, c1.lease.token, { error: { message: "x" }, retryable: false });
    clock.advance(500);
    const s = (await engine.stats(["default"]))[0]!;
    expect(s).toEqual({
      queue: "default", pending: 3, started: 1, scheduled: 1, finished: 1, failed: 1, deferred: 0, dlq: 1,
      oldestPendingAgeMs: 2500, // j3 became ready at +3 s; now is +5.5 s
      streamLength: 4, // pending + started: entries still in the ready stream
      totals: { enqueued: 7, failed: 1 },
      // j3, j4 and sup wait; j2 is started
      byLevel: { autonomous: { pending: 2, started: 1 }, supervised: { pending: 1, started: 0 }, human_required: { pending: 0, started: 0 } },
    });
  });
});
