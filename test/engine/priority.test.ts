import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine } from "../support/engines.ts";

async function drain(engine: ReturnType<typeof makeEngine>["engine"], opts: Parameters<typeof engine.claim>[0]) {
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const c = await engine.claim(opts);
    if (c.status === "empty") break;
    ids.push(c.job.id);
  }
  return ids;
}

describe.each(TRANSPORTS)("claim order and permissions over %s", (transport) => {
  it("maps priorities to queues and drains them in strict priority order, FIFO within a queue", async () => {
    const { engine, clock } = makeEngine(transport);
    const plan = [
      ["l1", "low"], ["n1", "normal"], ["h1", "high"], ["c1", "critical"], ["n2", "normal"], ["l2", "low"], ["h2", "high"],
    ] as const;
    for (const [id, priority] of plan) {
      await engine.enqueue({ id, priority, payload: {} });
      clock.advance(1);
    }
    expect((await engine.getJob("c1")).queue).toBe("high_priority");
    expect((await engine.getJob("n1")).queue).toBe("default");
    expect((await engine.getJob("l1")).queue).toBe("low_priority");
    expect(await drain(engine, { workerId: "w" })).toEqual(["h1", "c1", "h2", "n1", "n2", "l1", "l2"]);
  });

  it("claims only from the queues asked for, still in priority order", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "h", priority: "high", payload: {} });
    await engine.enqueue({ id: "l", priority: "low", payload: {} });
    await engine.enqueue({ id: "n", priority: "normal", payload: {} });
    expect(await drain(engine, { workerId: "w", queues: ["low_priority", "default"] })).toEqual(["n", "l"]);
  });

  it("never hands a job to a claimer without its permission level", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "auto", payload: {}, permissionLevel: "autonomous" });
    await engine.enqueue({ id: "sup", payload: {}, permissionLevel: "supervised" });
    await engine.enqueue({ id: "human", payload: {}, permissionLevel: "human_required" });
    expect(await drain(engine, { workerId: "bot" })).toEqual(["auto"]);
    expect(await drain(engine, { workerId: "bot2", permissionLevels: ["autonomous", "supervised"] })).toEqual(["sup"]);
    expect(await drain(engine, { workerId: "person", permissionLevels: ["human_required"] })).toEqual(["human"]);
  });

  it("within a queue, a claimer allowed several levels takes the most restricted work first", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "a1", payload: {}, permissionLevel: "autonomous" });
    await engine.enqueue({ id: "h1", payload: {}, permissionLevel: "human_required" });
    await engine.enqueue({ id: "s1", payload: {}, permissionLevel: "supervised" });
    await engine.enqueue({ id: "hp", payload: {}, priority: "low", permissionLevel: "human_required" });
    expect(await drain(engine, { workerId: "lead", permissionLevels: ["autonomous", "supervised", "human_required"] })).toEqual(["h1", "s1", "a1", "hp"]);
  });

  it("an id repeated within one batch is enqueued once, with its first spec", async () => {
    const { engine } = makeEngine(transport);
    const res = await engine.enqueueBatch([
      { id: "twice", payload: { n: 1 }, type: "first" },
      { id: "other", payload: {}, dependsOn: ["twice"] },
      { id: "twice", payload: { n: 2 }, type: "second", priority: "high" },
    ]);
    expect(res.map((r) => [r.id, r.status, r.created])).toEqual([["twice", "pending", true], ["other", "deferred", true], ["twice", "pending", false]]);
    expect(await engine.getJob("twice")).toMatchObject({ type: "first", payload: { n: 1 }, queue: "default" });
    expect((await engine.stats(["default"]))[0]).toMatchObject({ pending: 1, deferred: 1 });
  });

  it("batch enqueue stores every job in one call, idempotent per id", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "b2", payload: { old: true } });
    const res = await engine.enqueueBatch(
      Array.from({ length: 200 }, (_, i) => ({ id: `b${i}`, payload: { i }, priority: i % 2 ? ("high" as const) : ("normal" as const) })),
    );
    expect(res).toHaveLength(200);
    expect(res.filter((r) => r.created)).toHaveLength(199);
    expect(res[2]).toMatchObject({ id: "b2", created: false });
    expect(res[1]).toMatchObject({ id: "b1", queue: "high_priority", created: true });
    const stats = await engine.stats();
    expect(stats.find((s) => s.queue === "high_priority")?.pending).toBe(100);
    expect(stats.find((s) => s.queue === "default")?.pending).toBe(100);
    // seed 2's queue stats: stream_length (XLEN) counts pending and started entries alike
    await engine.claimBatch({ workerId: "w", queues: ["default"], count: 30 });
    const after = (await engine.stats(["default"]))[0]!;
    expect(after).toMatchObject({ pending: 70, started: 30, streamLength: 100 });
  });
});
