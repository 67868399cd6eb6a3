import { describe, expect, it } from "vitest";
import { LeaseLostError } from "../../packages/core/src/index.ts";
import { TRANSPORTS, makeEngine, rawRedis, snapshot } from "../support/engines.ts";

describe.each(TRANSPORTS)("leases, reclaim and fencing over %s", (transport) => {
  it("reclaims a job whose worker vanished exactly once, and the stale token can no longer act", async () => {
    const { engine, clock, prefix } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {} });
    const first = await engine.claim({ workerId: "dead-worker", leaseMs: 30_000 });
    if (first.status !== "claimed") throw new Error("no job");

    clock.advance(29_999);
    expect(await engine.tick()).toMatchObject({ reclaimed: 0 });
    clock.advance(1);
    expect(await engine.tick()).toMatchObject({ reclaimed: 1 });
    expect(await engine.tick()).toMatchObject({ reclaimed: 0 }); // exactly once
    const after = await engine.getJob("j");
    expect(after).toMatchObject({ status: "retrying", attempts: 1, error: { code: "lease_expired" } });

    // seed 2 backoff for attempt 1: 1 s ± 20 %
    const due = Date.parse(after.nextAttemptAt!) - clock.now();
    expect(due).toBeGreaterThanOrEqual(800);
    expect(due).toBeLessThanOrEqual(1200);
    clock.advance(due);
    const second = await engine.claim({ workerId: "live-worker" });
    if (second.status !== "claimed") throw new Error("not redelivered");
    expect(second.lease.token).toBeGreaterThan(first.lease.token);
    expect(second.job.attempt).toBe(2);

    // the dead worker comes back: every lease operation is refused and changes nothing
    const before = await snapshot(prefix);
    await expect(engine.ack("j", first.lease.token, {})).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.heartbeat("j", first.lease.token)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(engine.fail("j", first.lease.token, { error: { message: "x" } })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.release("j", first.lease.token)).rejects.toMatchObject({ code: "lease_lost" });
    expect(await snapshot(prefix)).toEqual(before);

    await engine.ack("j", second.lease.token, "ok");
    expect((await engine.getJob("j")).status).toBe("completed");
  });

  it("a claim reclaims expired leases itself when maintenance is late", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {}, retry: { kind: "fixed", intervalsMs: [0] } });
    await engine.claim({ workerId: "a", leaseMs: 10_000 });
    clock.advance(10_000);
    const c = await engine.claim({ workerId: "b" });
    expect(c).toMatchObject({ status: "claimed", job: { id: "j", attempt: 2 }, lease: { token: 2 } });
  });

  it("heartbeats keep a long job's lease alive past its initial length", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "long", payload: {} });
    const c = await engine.claim({ workerId: "w", leaseMs: 60_000 });
    if (c.status !== "claimed") throw new Error("no job");
    for (let i = 0; i < 10; i++) {
      clock.advance(40_000);
      await engine.heartbeat("long", c.lease.token);
      expect(await engine.tick()).toMatchObject({ reclaimed: 0 });
    }
    expect((await engine.getJob("long")).status).toBe("active");
    await engine.ack("long", c.lease.token);
  });

  it("a lost lease after the last attempt dead-letters the job", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "poison", payload: {}, maxRetries: 0 });
    await engine.claim({ workerId: "w", leaseMs: 1000 });
    clock.advance(1000);
    await engine.tick();
    expect(await engine.getJob("poison")).toMatchObject({ status: "failed", deadLetter: { reason: "lease_expired" } });
    expect(await rawRedis().xpending(engine.keys.ready("default", "autonomous"), "workers")).toEqual([0, null, null, null]);
  });
});

describe.each(TRANSPORTS)("lease holder checks over %s", (transport) => {
  it("with a holder given, only that holder (or one of its instances) may act on the lease", async () => {
    const { engine, prefix } = makeEngine(transport);
    await engine.enqueue({ id: "h", payload: {} });
    const c = await engine.claim({ workerId: "team-a:pod-1" });
    if (c.status !== "claimed") throw new Error("no job");
    const before = await snapshot(prefix);
    await expect(engine.heartbeat("h", c.lease.token, { holder: "team-b" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.ack("h", c.lease.token, null, { holder: "team-b" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.ack("h", c.lease.token, null, { holder: "team-a:pod" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.fail("h", c.lease.token, { error: { message: "x" }, holder: "team" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.release("h", c.lease.token, { holder: "team-b" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.askQuestion("h", c.lease.token, { requestType: "question", message: "?" }, { holder: "team-b" })).rejects.toMatchObject({ code: "lease_lost" });
    expect(await snapshot(prefix)).toEqual(before);
    await engine.heartbeat("h", c.lease.token, { holder: "team-a" });
    await engine.ack("h", c.lease.token, "ok", { holder: "team-a:pod-1" });
    expect((await engine.getJob("h")).status).toBe("completed");
  });
});

describe.each(TRANSPORTS)("reconciling the consumer group's pending list over %s", (transport) => {
  it("re-arms a lease whose timer went missing and drops pending entries no lease owns (XPENDING IDLE)", async () => {
    const { engine, clock } = makeEngine(transport, { claimIdleMs: 1000 });
    await engine.enqueue({ id: "kept", payload: {}, maxRetries: 0 });
    const c = await engine.claim({ workerId: "w", leaseMs: 5000 });
    if (c.status !== "claimed") throw new Error("no job");
    const r = rawRedis();
    // Simulate damage the scripts never cause: the lease timer vanishes, and an entry is left
    // pending in the group with no job behind it.
    await r.zrem(engine.keys.timers(), "L:kept");
    const stream = engine.keys.ready("default", "autonomous");
    await r.xadd(stream, "*", "id", "ghost", "t", String(clock.now()));
    await r.xreadgroup("GROUP", "workers", "w", "COUNT", "1", "STREAMS", stream, ">");
    await new Promise((res) => setTimeout(res, 1100)); // XPENDING's idle time is the server's clock
    clock.advance(5000);
    expect(await engine.tick()).toMatchObject({ reclaimed: 0, reconciled: 0 }); // no timer: nothing to reclaim yet
    expect(await engine.tick({ trim: true })).toMatchObject({ reconciled: 2 });
    expect(await r.xpending(stream, "workers")).toEqual([1, expect.any(String), expect.any(String), [["w", "1"]]]);
    expect(await engine.tick()).toMatchObject({ reclaimed: 1 });
    expect(await engine.getJob("kept")).toMatchObject({ status: "failed", deadLetter: { reason: "lease_expired" } });
    expect(await r.xpending(stream, "workers")).toEqual([0, null, null, null]);
  });
});
