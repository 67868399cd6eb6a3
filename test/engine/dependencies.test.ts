import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, snapshot } from "../support/engines.ts";

type E = ReturnType<typeof makeEngine>["engine"];
async function runNext(engine: E, outcome: "ack" | "dead" = "ack") {
  const c = await engine.claim({ workerId: "w" });
  if (c.status !== "claimed") throw new Error("expected a job");
  if (outcome === "ack") await engine.ack(c.job.id, c.lease.token, null);
  else await engine.fail(c.job.id, c.lease.token, { error: { message: "no" }, retryable: false });
  return c.job.id;
}

describe.each(TRANSPORTS)("task dependencies over %s", (transport) => {
  it("a job waits (deferred) until every parent completes, then runs", async () => {
    const { engine } = makeEngine(transport);
    const res = await engine.enqueueBatch([
      { id: "build", payload: {} },
      { id: "test", payload: {} },
      { id: "deploy", payload: {}, priority: "high", dependsOn: ["build", "test"] },
    ]);
    expect(res.map((r) => r.status)).toEqual(["pending", "pending", "deferred"]);
    expect((await engine.stats(["high_priority"]))[0]).toMatchObject({ deferred: 1, pending: 0 });

    expect(await runNext(engine)).toBe("build");
    expect(await engine.getJob("deploy")).toMatchObject({ status: "deferred" });
    expect(await runNext(engine)).toBe("test");
    expect((await engine.getJob("deploy")).status).toBe("pending");
    expect((await engine.stats(["high_priority"]))[0]).toMatchObject({ deferred: 0, pending: 1 });
    expect(await runNext(engine)).toBe("deploy");
  });

  it("a parent that already completed does not hold the child back", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "p", payload: {} });
    await runNext(engine);
    expect((await engine.enqueue({ id: "c", payload: {}, dependsOn: ["p"] })).status).toBe("pending");
  });

  it("a parent failing for good cancels the waiting chain", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "a", payload: {} });
    await engine.enqueue({ id: "b", payload: {}, dependsOn: ["a"] });
    await engine.enqueue({ id: "c", payload: {}, dependsOn: ["b"] });
    await runNext(engine, "dead");
    expect(await engine.getJob("b")).toMatchObject({ status: "cancelled", cancelReason: "dependency a failed" });
    expect(await engine.getJob("c")).toMatchObject({ status: "cancelled", cancelReason: "dependency b cancelled" });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ deferred: 0 });
  });

  it("refuses unknown, failed or self dependencies without writing anything", async () => {
    const { engine, prefix } = makeEngine(transport);
    await engine.enqueue({ id: "dead", payload: {} });
    await runNext(engine, "dead");
    const before = await snapshot(prefix);
    await expect(engine.enqueue({ id: "x", payload: {}, dependsOn: ["ghost"] })).rejects.toMatchObject({ code: "validation_error", details: { jobId: "ghost" } });
    await expect(engine.enqueue({ id: "x", payload: {}, dependsOn: ["dead"] })).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.enqueue({ id: "x", payload: {}, dependsOn: ["x"] })).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.enqueueBatch([{ id: "y", payload: {} }, { id: "z", payload: {}, dependsOn: ["ghost"] }])).rejects.toMatchObject({ code: "validation_error" });
    // the failed parent repeated earlier in the same batch is the existing job, not a new one
    await expect(engine.enqueueBatch([{ id: "dead", payload: {} }, { id: "z", payload: {}, dependsOn: ["dead"] }])).rejects.toMatchObject({
      code: "validation_error",
      details: { jobId: "dead" },
    });
    expect(await snapshot(prefix)).toEqual(before);
  });

  it("a parent earlier in the same batch counts as created; an existing one as itself", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "old", payload: {}, queue: "low_priority" });
    await runNext(engine);
    const r = await engine.enqueueBatch([
      { id: "new-parent", payload: {} },
      { id: "old", payload: {} }, // exists (completed): untouched, reported with its own queue
      { id: "kid", payload: {}, dependsOn: ["new-parent", "old"] },
    ]);
    expect(r.map((x) => [x.id, x.status, x.created, x.queue])).toEqual([
      ["new-parent", "pending", true, "default"],
      ["old", "completed", false, "low_priority"],
      ["kid", "deferred", true, "default"],
    ]);
    expect(await runNext(engine)).toBe("new-parent");
    expect((await engine.getJob("kid")).status).toBe("pending");
  });
});
