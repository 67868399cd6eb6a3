import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, snapshot } from "../support/engines.ts";

type E = ReturnType<typeof makeEngine>["engine"];

async function deadLetter(engine: E, id: string, opts: { priority?: "low" | "normal" | "high"; message?: string; name?: string; retryable?: boolean } = {}) {
  await engine.enqueue({ id, priority: opts.priority ?? "normal", payload: { id }, maxRetries: 0 });
  const c = await engine.claim({ workerId: "w" });
  if (c.status !== "claimed" || c.job.id !== id) throw new Error(`expected to claim ${id}`);
  await engine.fail(id, c.lease.token, { error: { name: opts.name ?? "Error", message: opts.message ?? "boom" }, retryable: opts.retryable ?? true });
}

describe.each(TRANSPORTS)("dead-letter triage over %s", (transport) => {
  it("lists newest first across queues, filters by queue, reason, error text and time, and paginates", async () => {
    const { engine, clock } = makeEngine(transport);
    const t0 = clock.now();
    await deadLetter(engine, "a", { message: "Connection reset by peer" });
    clock.advance(1000);
    await deadLetter(engine, "b", { priority: "high", name: "ValidationError", message: "bad repo", retryable: false });
    clock.advance(1000);
    await deadLetter(engine, "c", { priority: "low", message: "rate limited" });
    clock.advance(1000);
    await deadLetter(engine, "d", { message: "connection refused" });

    const all = await engine.dlqList();
    expect(all.entries.map((e) => e.id)).toEqual(["d", "c", "b", "a"]);
    expect(all.nextCursor).toBeNull();
    expect(all.entries[2]).toMatchObject({ queue: "high_priority", reason: "non_retryable", attempts: 1, error: { name: "ValidationError", message: "bad repo" } });
    expect(all.entries[0]!.deadLetteredAt).toBe(new Date(t0 + 3000).toISOString());

    expect((await engine.dlqList({ queues: ["default"] })).entries.map((e) => e.id)).toEqual(["d", "a"]);
    expect((await engine.dlqList({ reason: "non_retryable" })).entries.map((e) => e.id)).toEqual(["b"]);
    expect((await engine.dlqList({ errorContains: "CONNECTION" })).entries.map((e) => e.id)).toEqual(["d", "a"]);
    expect((await engine.dlqList({ since: t0 + 1000, until: t0 + 2000 })).entries.map((e) => e.id)).toEqual(["c", "b"]);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const p = await engine.dlqList({ limit: 3, ...(cursor && { cursor }) });
      seen.push(...p.entries.map((e) => e.id));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(["d", "c", "b", "a"]);
    await expect(engine.dlqList({ cursor: "garbage!" })).rejects.toMatchObject({ code: "validation_error" });
  });

  it("fingerprints errors so one cause groups together whatever ids and numbers its messages carry, and filters by it", async () => {
    const { engine } = makeEngine(transport);
    await deadLetter(engine, "t1", { name: "TimeoutError", message: "Timeout after 3012 ms on job 9f1c2d3e-1111-4a4a-8b8b-0123456789ab (attempt 4)" });
    await deadLetter(engine, "t2", { name: "TimeoutError", message: "timeout after 2990 ms on job 03ab44cd-2222-4c4c-9d9d-abcdefabcdef (attempt 12)" });
    await deadLetter(engine, "t3", { name: "TimeoutError", message: "timeout after 15 ms on   build  deadbeefcafe01" });
    await deadLetter(engine, "o1", { name: "Error", message: "Timeout after 3012 ms on job 9f1c2d3e-1111-4a4a-8b8b-0123456789ab (attempt 4)" });
    await deadLetter(engine, "v1", { name: "ValidationError", message: "bad repo url", retryable: false });

    const all = (await engine.dlqList()).entries;
    const fp = Object.fromEntries(all.map((e) => [e.id, e.fingerprint]));
    for (const f of Object.values(fp)) expect(f).toMatch(/^[0-9a-f]{12}$/);
    expect(fp["t1"]).toBe(fp["t2"]); // same cause, other numbers and job id
    expect(new Set([fp["t1"], fp["t3"], fp["o1"], fp["v1"]]).size).toBe(4); // other words, other name, other cause
    expect((await engine.dlqList({ fingerprint: fp["t1"] })).entries.map((e) => e.id)).toEqual(["t2", "t1"]);
    expect((await engine.dlqList({ fingerprint: fp["t1"], reason: "non_retryable" })).entries).toEqual([]);
    await expect(engine.dlqList({ fingerprint: "XYZ" })).rejects.toMatchObject({ code: "validation_error" });
  });

  it("inspects, replays (idempotently, optionally with an edited payload) and the replayed job completes", async () => {
    const { engine } = makeEngine(transport);
    await deadLetter(engine, "x", { message: "flaky" });
    const dead = await engine.dlqGet("x");
    expect(dead).toMatchObject({ status: "failed", deadLetter: { reason: "max_attempts" }, error: { message: "flaky" }, payload: { id: "x" } });

    expect(await engine.dlqReplay(["x"], { payload: { id: "x", fixed: true } })).toEqual([{ id: "x", outcome: "replayed" }]);
    expect(await engine.dlqReplay(["x", "nope"])).toEqual([{ id: "x", outcome: "not_in_dlq" }, { id: "nope", outcome: "not_found" }]);
    await expect(engine.dlqGet("x")).rejects.toMatchObject({ code: "not_in_dlq" });

    const c = await engine.claim({ workerId: "w" });
    expect(c).toMatchObject({ status: "claimed", job: { id: "x", attempt: 1, payload: { id: "x", fixed: true } } });
    if (c.status !== "claimed") return;
    await engine.ack("x", c.lease.token, "fixed");
    const done = await engine.getJob("x");
    expect(done.status).toBe("completed");
    expect(done.history.map((h) => h.status)).toEqual(["pending", "active", "failed", "pending", "active", "completed"]);
    // counted once, as finished: the replay took it out of the failed index as well as the DLQ
    expect((await engine.stats(["default"]))[0]).toMatchObject({ dlq: 0, failed: 0, finished: 1, totals: { replayed: 1 } });
  });

  it("purges one or all; purging something not in the DLQ is refused and changes nothing", async () => {
    const { engine, prefix } = makeEngine(transport);
    await deadLetter(engine, "p1");
    await deadLetter(engine, "p2");
    await deadLetter(engine, "p3", { priority: "low" });
    await engine.enqueue({ id: "live", payload: {} });
    await engine.dlqPurge("p1");
    await expect(engine.getJob("p1")).rejects.toMatchObject({ code: "job_not_found" });
    const before = await snapshot(prefix);
    await expect(engine.dlqPurge("live")).rejects.toMatchObject({ code: "not_in_dlq" });
    await expect(engine.dlqPurge("ghost")).rejects.toMatchObject({ code: "job_not_found" });
    await expect(engine.dlqReplay(["a", "b"], { payload: {} })).rejects.toMatchObject({ code: "validation_error" });
    expect(await snapshot(prefix)).toEqual(before);
    expect(await engine.dlqPurgeAll("default")).toEqual({ purged: 1 });
    expect(await engine.dlqPurgeAll()).toEqual({ purged: 1 });
    expect((await engine.getJob("live")).status).toBe("pending");
    expect((await engine.dlqList()).entries).toEqual([]);
  });
});
