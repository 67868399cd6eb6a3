import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, rawRedis } from "../support/engines.ts";

describe.each(TRANSPORTS)("job lifecycle over %s", (transport) => {
  it("enqueue → claim → heartbeat → ack, with status and history at each step", async () => {
    const { engine, clock } = makeEngine(transport);
    const enq = await engine.enqueue({ id: "job-1", type: "debate", payload: { question: "monolith?", rounds: 3 } });
    expect(enq).toEqual({ id: "job-1", queue: "default", status: "pending", created: true });
    expect((await engine.getJob("job-1")).status).toBe("pending");

    clock.advance(1000);
    const claim = await engine.claim({ workerId: "w1" });
    expect(claim.status).toBe("claimed");
    if (claim.status !== "claimed") return;
    expect(claim.job).toMatchObject({ id: "job-1", queue: "default", type: "debate", attempt: 1, maxAttempts: 4, payload: { question: "monolith?", rounds: 3 } });
    expect(claim.lease.token).toBe(1);
    expect(claim.lease.expiresAt).toBe(clock.now() + 7_200_000); // default queue timeout

    const active = await engine.getJob("job-1");
    expect(active).toMatchObject({ status: "active", worker: "w1", attempts: 1, leaseToken: 1 });
    expect(active.leaseExpiresAt).toBe(new Date(claim.lease.expiresAt).toISOString());

    clock.advance(5000);
    const hb = await engine.heartbeat("job-1", 1, { extendMs: 60_000, progress: { step: 2 } });
    expect(hb.leaseExpiresAt).toBe(clock.now() + 60_000);
    expect((await engine.getJob("job-1")).progress).toEqual({ step: 2 });

    clock.advance(2000);
    const ack = await engine.ack("job-1", 1, { verdict: "modular monolith" });
    expect(ack.durationMs).toBe(7000);

    const done = await engine.getJob("job-1");
    expect(done).toMatchObject({ status: "completed", result: { verdict: "modular monolith" }, error: null, leaseExpiresAt: null });
    expect(done.history.map((h) => h.status)).toEqual(["pending", "active", "completed"]);
    // result TTL 24 h (PTTL is counted by the server's own clock, hence the tolerance)
    expect(Math.abs(Date.parse(done.expiresAt!) - (clock.now() + 86_400_000))).toBeLessThan(2000);

    // bounded memory: the acked entry left the stream and the consumer's pending list
    const stream = engine.keys.ready("default", "autonomous");
    expect(await rawRedis().xlen(stream)).toBe(0);
    expect(await rawRedis().xpending(stream, "workers")).toEqual([0, null, null, null]);
    expect(await rawRedis().zcard(engine.keys.timers())).toBe(0);
    expect(await engine.claim({ workerId: "w1" })).toEqual({ status: "empty", nextTimerAt: null });
  });

  it("is idempotent on the job id: a second enqueue returns the existing job untouched", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "wo-7", payload: { v: 1 } });
    const again = await engine.enqueue({ id: "wo-7", payload: { v: 2 }, priority: "critical" });
    expect(again).toMatchObject({ id: "wo-7", status: "pending", created: false });
    expect((await engine.getJob("wo-7")).payload).toEqual({ v: 1 });
    const first = await engine.claim({ workerId: "w" });
    expect(first.status).toBe("claimed");
    expect(await engine.claim({ workerId: "w" })).toMatchObject({ status: "empty" });
  });

  it("values read back exactly as written (no JSON coercion of strings)", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "s1", payload: "123" });
    await engine.enqueue({ id: "s2", payload: { n: "007", u: "ünï 😀", big: 12345678901234567890n.toString() } });
    expect((await engine.getJob("s1")).payload).toBe("123");
    const c1 = await engine.claim({ workerId: "w" });
    const c2 = await engine.claim({ workerId: "w" });
    expect(c1.status === "claimed" && c1.job.payload).toBe("123");
    expect(c2.status === "claimed" && c2.job.payload).toEqual({ n: "007", u: "ünï 😀", big: "12345678901234567890" });
  });
});

describe.each(TRANSPORTS)("history bound over %s", (transport) => {
  it("keeps the history under 4 KB, with its first entry and the newest transitions", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "busy", payload: {} });
    for (let i = 0; i < 120; i++) {
      const c = await engine.claim({ workerId: `w${i}` });
      if (c.status !== "claimed") throw new Error("no job");
      await engine.release("busy", c.lease.token);
    }
    const job = await engine.getJob("busy");
    expect(JSON.stringify(job.history).length).toBeLessThan(8000);
    expect(job.history[0]).toMatchObject({ status: "pending" });
    expect(job.history.at(-1)).toMatchObject({ status: "released", worker: "w119" });
    expect(job.history.at(-2)).toMatchObject({ status: "active", worker: "w119" });
    expect(job.history.length).toBeGreaterThan(20);
    expect(job.history.length).toBeLessThan(100);
  });
});
