import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, rawRedis } from "../support/engines.ts";

describe.each(TRANSPORTS)("batch claims, ack-and-claim-next and stream tips over %s", (transport) => {
  it("a claim that leases fewer than asked reports the tips (with tipsFor) so the caller can wait without an empty claim", async () => {
    const { engine } = makeEngine(transport);
    const control = `${engine.keys.prefix}worker:w:control`;
    await engine.enqueueBatch([{ id: "a", payload: {} }, { id: "b", payload: {} }, { id: "d", payload: {}, delayMs: 5_000 }]);
    const partial = await engine.claimBatch({ workerId: "w", queues: ["default"], count: 5, tipsFor: [control] });
    expect(partial.jobs.map((c) => c.job.id)).toEqual(["a", "b"]);
    const empty = await engine.claimBatch({ workerId: "w", queues: ["default"], count: 5, tipsFor: [control] });
    expect(empty.jobs).toEqual([]);
    expect({ nextTimerAt: partial.nextTimerAt, tips: partial.tips }).toEqual({ nextTimerAt: empty.nextTimerAt, tips: empty.tips });
    expect(partial.nextTimerAt).not.toBeNull();
    // without tipsFor, or when the count is met, nothing extra
    await engine.enqueueBatch([{ id: "c", payload: {} }, { id: "e", payload: {} }]);
    expect(await engine.claimBatch({ workerId: "w", queues: ["default"], count: 1, tipsFor: [control] })).toMatchObject({ nextTimerAt: null, tips: null });
    expect(await engine.claimBatch({ workerId: "w", queues: ["default"], count: 5 })).toMatchObject({ jobs: [{ job: { id: "e" } }], tips: null });
  });

  it("claims up to count jobs in priority order in one call, each with its own lease", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueueBatch([
      { id: "n1", payload: {} }, { id: "h1", priority: "high", payload: {} }, { id: "n2", payload: {} }, { id: "l1", priority: "low", payload: {} },
    ]);
    const r = await engine.claimBatch({ workerId: "w", count: 3 });
    expect(r.jobs.map((j) => j.job.id)).toEqual(["h1", "n1", "n2"]);
    expect(r.jobs.every((j) => j.lease.token === 1)).toBe(true);
    expect((await engine.claimBatch({ workerId: "w", count: 3 })).jobs.map((j) => j.job.id)).toEqual(["l1"]);
    expect(await engine.claimBatch({ workerId: "w", count: 3 })).toMatchObject({ jobs: [], tips: null });
  });

  it("ack can lease the caller's next job in the same call", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "a", payload: {} }, { id: "b", payload: {} }]);
    const a = await engine.claim({ workerId: "w" });
    if (a.status !== "claimed") throw new Error("no job");
    const acked = await engine.ack("a", a.lease.token, "done", { next: { workerId: "w" } });
    expect(acked.next.map((n) => n.job.id)).toEqual(["b"]);
    const b = acked.next[0]!;
    expect(await engine.getJob("b")).toMatchObject({ status: "active", worker: "w", leaseToken: b.lease.token });
    const last = await engine.ack("b", b.lease.token, "done", { next: { workerId: "w" } });
    expect(last.next).toEqual([]);
  });

  it("an empty claim reports stream tips so a blocking wait misses nothing appended after it", async () => {
    const { engine } = makeEngine(transport);
    const control = `${engine.keys.prefix}test-control`;
    await engine.enqueue({ id: "x", payload: {} });
    const first = await engine.claimBatch({ workerId: "w", queues: ["default"], tipsFor: [control] });
    expect(first.jobs).toHaveLength(1);
    const empty = await engine.claimBatch({ workerId: "w", queues: ["default"], tipsFor: [control] });
    const stream = engine.keys.ready("default", "autonomous");
    const newest = (await rawRedis().xrevrange(stream, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0";
    expect(empty.tips).toEqual([{ key: control, afterId: "0-0" }, { key: stream, afterId: newest }]);
    await engine.enqueue({ id: "y", payload: {} });
    const after = await rawRedis().xread("STREAMS", stream, empty.tips![1]!.afterId);
    expect(after?.[0]?.[1].map((e) => e[1][1])).toEqual(["y"]);
  });
});
