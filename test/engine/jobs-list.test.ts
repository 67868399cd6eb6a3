/**
 * Listing a queue's jobs by state (Engine.listJobs, jobs_list.lua): each state from its own index,
 * pages that resume where they stopped, stale index entries skipped, bad input refused. Over both
 * transports.
 */
import { describe, expect, it } from "vitest";
import type { JobPage, ListableState } from "../../packages/core/src/index.ts";
import { makeEngine, rawRedis, TRANSPORTS } from "../support/engines.ts";

type E = ReturnType<typeof makeEngine>["engine"];

/** Every id of a list, page by page (bounded). */
async function all(engine: E, queue: string, state: ListableState, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (; pages < 100; ) {
    const page: JobPage = await engine.listJobs({ queue, state, limit, ...(cursor && { cursor }) });
    pages++;
    ids.push(...page.jobs.map((j) => j.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { ids, pages };
}

describe.each(TRANSPORTS)("listing jobs by state over %s", (transport) => {
  it("reads each state from its index, with the summary fields", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch([
      { id: "p-auto", payload: {}, type: "build" },
      { id: "p-sup", payload: {}, permissionLevel: "supervised" },
      { id: "p-human", payload: {}, permissionLevel: "human_required" },
      { id: "later", payload: {}, delayMs: 60_000 },
      { id: "child", payload: {}, dependsOn: ["p-auto"] },
      { id: "to-run", payload: {}, permissionLevel: "supervised" },
      { id: "to-fail", payload: {}, permissionLevel: "supervised", maxRetries: 0 },
      { id: "to-retry", payload: {}, permissionLevel: "supervised", retry: { kind: "fixed", intervalsMs: [30_000] } },
      { id: "to-hold", payload: {}, permissionLevel: "supervised" },
    ]);
    // a claimer allowed supervised jobs only takes the five supervised ones
    const claimed: Record<string, number> = {};
    for (let i = 0; i < 5; i++) {
      const c = await engine.claim({ workerId: "w1", permissionLevels: ["supervised"] });
      if (c.status !== "claimed") throw new Error("nothing to claim");
      claimed[c.job.id] = c.lease.token;
    }
    expect(Object.keys(claimed).sort()).toEqual(["p-sup", "to-fail", "to-hold", "to-retry", "to-run"]);
    await engine.release("p-sup", claimed["p-sup"]!, {}); // back to pending
    clock.advance(1500);
    await engine.ack("to-run", claimed["to-run"]!, { ok: true });
    await engine.fail("to-fail", claimed["to-fail"]!, { error: { name: "ValueError", message: "bad input" } });
    await engine.fail("to-retry", claimed["to-retry"]!, { error: { message: "flaky" }, retryable: true });

    const ids = async (state: ListableState) => (await engine.listJobs({ queue: "default", state })).jobs.map((j) => j.id);
    // the most restricted level first, as claims take them
    expect(await ids("pending")).toEqual(["p-human", "p-sup", "p-auto"]);
    expect(await ids("active")).toEqual(["to-hold"]);
    expect(await ids("scheduled")).toEqual(["to-retry", "later"]); // due in 30 s, then in 60 s
    expect(await ids("deferred")).toEqual(["child"]);
    expect(await ids("completed")).toEqual(["to-run"]);
    expect(await ids("failed")).toEqual(["to-fail"]);

    const [held] = (await engine.listJobs({ queue: "default", state: "active" })).jobs;
    expect(held).toMatchObject({ id: "to-hold", status: "active", permissionLevel: "supervised", attempts: 1, maxAttempts: 4, worker: "w1", finishedAt: null, error: null });
    expect(Date.parse(held!.startedAt!)).toBe(clock.now() - 1500);
    const [retry, later] = (await engine.listJobs({ queue: "default", state: "scheduled" })).jobs;
    expect(retry).toMatchObject({ status: "retrying", runAt: new Date(clock.now() + 30_000).toISOString(), error: { name: "Error", message: "flaky" } });
    expect(later).toMatchObject({ status: "scheduled", runAt: new Date(clock.now() - 1500 + 60_000).toISOString() });
    expect((await engine.listJobs({ queue: "default", state: "failed" })).jobs[0]).toMatchObject({ status: "failed", error: { name: "ValueError", message: "bad input" } });
    expect((await engine.listJobs({ queue: "default", state: "pending" })).jobs.find((j) => j.id === "p-auto")).toMatchObject({ type: "build", priority: "normal", queue: "default" });
    // other queues are their own lists
    expect((await engine.listJobs({ queue: "high_priority", state: "pending" })).jobs).toEqual([]);
  });

  it("pages through long lists without repeating or skipping, in every state", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch(Array.from({ length: 23 }, (_, i) => ({ id: `a${String(i).padStart(2, "0")}`, payload: {} })));
    await engine.enqueueBatch(Array.from({ length: 7 }, (_, i) => ({ id: `s${i}`, payload: {}, permissionLevel: "supervised" as const })));
    await engine.enqueueBatch(Array.from({ length: 12 }, (_, i) => ({ id: `d${String(i).padStart(2, "0")}`, payload: {}, delayMs: 1000 * (i + 1) })));
    const pending = await all(engine, "default", "pending", 5);
    expect(pending.ids).toEqual([...Array.from({ length: 7 }, (_, i) => `s${i}`), ...Array.from({ length: 23 }, (_, i) => `a${String(i).padStart(2, "0")}`)]);
    expect(pending.pages).toBeGreaterThanOrEqual(6);
    expect((await all(engine, "default", "scheduled", 5)).ids).toEqual(Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, "0")}`));

    // claims move the group's last delivery: a cursor from before them resumes after it
    const first = await engine.listJobs({ queue: "default", state: "pending", limit: 3 });
    for (let i = 0; i < 12; i++) {
      const c = await engine.claim({ workerId: "w", permissionLevels: ["autonomous", "supervised"] });
      if (c.status !== "claimed") throw new Error("nothing to claim");
      clock.advance(10);
      await engine.ack(c.job.id, c.lease.token, null);
    }
    const rest = await engine.listJobs({ queue: "default", state: "pending", limit: 100, cursor: first.nextCursor! });
    expect(rest.jobs.map((j) => j.id)).toEqual(Array.from({ length: 18 }, (_, i) => `a${String(i + 5).padStart(2, "0")}`));
    const done = await all(engine, "default", "completed", 5);
    expect(done.ids).toHaveLength(12);
    expect(done.ids[0]).toBe("a04"); // newest first
  });

  it("skips index entries whose job is gone or moved on", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "x1", payload: {} }, { id: "x2", payload: {} }, { id: "x3", payload: {} }]);
    await engine.cancel("x2");
    await rawRedis().del(engine.keys.job("x3"));
    // a second entry naming x1 (as a crash between scripts could leave): x1 is listed once, at its own entry
    await rawRedis().xadd(engine.keys.ready("default", "autonomous"), "*", "id", "x1", "t", "0");
    expect((await engine.listJobs({ queue: "default", state: "pending" })).jobs.map((j) => j.id)).toEqual(["x1"]);
  });

  it("a cursor keeps its place while jobs move out of the list before it", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch(Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, payload: {}, delayMs: 1000 * (i + 1) })));
    const first = await engine.listJobs({ queue: "default", state: "scheduled", limit: 2 });
    expect(first.jobs.map((j) => j.id)).toEqual(["s0", "s1"]);
    clock.advance(2500);
    await engine.tick(); // s0 and s1 are promoted: they leave the delayed set
    const second = await engine.listJobs({ queue: "default", state: "scheduled", limit: 2, cursor: first.nextCursor! });
    expect(second.jobs.map((j) => j.id)).toEqual(["s2", "s3"]);

    // one batch shares one score: its jobs page by id without repeats or gaps
    const ids = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    await engine.enqueue({ id: "root", payload: {} });
    await engine.enqueueBatch(ids.map((id) => ({ id, payload: {}, dependsOn: ["root"] })));
    const deferred = await all(engine, "default", "deferred", 7);
    expect(deferred.ids).toEqual(ids);
    // finished jobs arriving at the front of a newest-first list do not repeat the next page's rows
    for (const id of ["f1", "f2", "f3", "f4"]) {
      await engine.enqueue({ id, payload: {}, queue: "low_priority" });
      const c = await engine.claim({ workerId: "w", queues: ["low_priority"] });
      if (c.status !== "claimed") throw new Error("nothing to claim");
      clock.advance(10);
      await engine.ack(id, c.lease.token, null);
    }
    const p1 = await engine.listJobs({ queue: "low_priority", state: "completed", limit: 2 });
    expect(p1.jobs.map((j) => j.id)).toEqual(["f4", "f3"]);
    await engine.enqueue({ id: "f5", payload: {}, queue: "low_priority" });
    const c5 = await engine.claim({ workerId: "w", queues: ["low_priority"] });
    if (c5.status !== "claimed") throw new Error("nothing to claim");
    clock.advance(10);
    await engine.ack("f5", c5.lease.token, null);
    const p2 = await engine.listJobs({ queue: "low_priority", state: "completed", limit: 2, cursor: p1.nextCursor! });
    expect(p2.jobs.map((j) => j.id)).toEqual(["f2", "f1"]);
  });

  it("refuses an unknown queue or state, a bad limit and a foreign cursor, reading nothing", async () => {
    const { engine } = makeEngine(transport);
    await expect(engine.listJobs({ queue: "nope", state: "pending" })).rejects.toMatchObject({ code: "unknown_queue" });
    await expect(engine.listJobs({ queue: "default", state: "running" as ListableState })).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.listJobs({ queue: "default", state: "pending", limit: 0 })).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.listJobs({ queue: "default", state: "pending", limit: 101 })).rejects.toMatchObject({ code: "validation_error" });
    const c = (text: string) => Buffer.from(text).toString("base64url");
    for (const [state, cursor] of [
      ["pending", c("default\npending\n50")], // not a stream position
      ["completed", c("default\npending\n2:1-0")], // another list's cursor
      ["completed", c("low_priority\ncompleted\n5:x")], // another queue's
      ["pending", c("default\npending\n3:99999999999999999999-0")], // beyond what Redis accepts
      ["completed", "%%%"],
    ] as const) {
      await expect(engine.listJobs({ queue: "default", state, cursor }), cursor).rejects.toMatchObject({ code: "validation_error" });
    }
  });
});
