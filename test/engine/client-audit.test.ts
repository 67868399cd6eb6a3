/**
 * The SDK's opt-in audit (`Queue` with `audit: { principal }`): every state-changing call lands in
 * the audit log the API and the CLI write, with its outcome (the error code when it failed);
 * reads are not recorded; an audit write that fails does not undo or fail the call. Over both
 * transports.
 */
import { describe, expect, it } from "vitest";
import { AuditLog, Queue, scriptRunner, type AuditEvent } from "../../packages/core/src/index.ts";
import { makeEngine, rawRedis, TRANSPORTS } from "../support/engines.ts";

describe.each(TRANSPORTS)("Queue audit over %s", (transport) => {
  it("records state-changing calls with their outcome, newest first; reads and unaudited clients record nothing", async () => {
    const t = makeEngine(transport);
    const queue = new Queue({ engine: t.engine, redis: t.port, audit: { principal: "billing-service" } });
    const log = new AuditLog(scriptRunner(t.port, t.prefix, Date.now), t.engine.keys);

    const { id } = await queue.enqueue({ payload: { invoice: 7 }, maxRetries: 0 });
    await queue.enqueueBatch([{ id: "b1", payload: {} }, { id: "b2", payload: {} }]);
    await expect(queue.enqueue({ payload: {}, priority: "urgent" as "high" })).rejects.toMatchObject({ code: "validation_error" });
    await queue.cancel("b2", "duplicate");
    await expect(queue.cancel("nope")).rejects.toMatchObject({ code: "job_not_found" });
    const c = await t.engine.claim({ workerId: "w" });
    if (c.status !== "claimed" || c.job.id !== id) throw new Error("expected the first job");
    await t.engine.fail(id, c.lease.token, { error: { name: "ValueError", message: "bad" } });
    await queue.dlqReplay([id]);
    expect(await queue.suspendWorker("ghost")).toBe(false);
    await queue.status(id); // a read
    await queue.listJobs({ queue: "default", state: "pending" });
    await new Queue({ engine: t.engine, redis: t.port }).enqueue({ id: "quiet", payload: {} }); // no audit option

    const { entries } = await log.list({ limit: 50 });
    expect(entries.map((e) => [e.action, e.jobId, e.outcome, e.principal, e.status])).toEqual([
      ["workerSuspend", null, "ok", "billing-service", 0],
      ["dlqReplay", id, "ok", "billing-service", 0],
      ["cancelJob", "nope", "job_not_found", "billing-service", 0],
      ["cancelJob", "b2", "ok", "billing-service", 0],
      ["enqueue", null, "validation_error", "billing-service", 0],
      ["enqueueBatch", null, "ok", "billing-service", 0],
      ["enqueue", id, "ok", "billing-service", 0],
    ]);
    expect(entries.find((e) => e.action === "enqueueBatch")?.details).toEqual({ count: 2, created: 2, ids: ["b1", "b2"] });
    expect(entries.find((e) => e.action === "dlqReplay")?.details).toEqual({ results: [{ id, outcome: "replayed" }], payloadEdited: false });
    expect(entries.find((e) => e.action === "workerSuspend")?.details).toEqual({ workerId: "ghost", found: false });
  });

  it("an audit write that fails keeps the call's result and is reported to onError", async () => {
    const t = makeEngine(transport);
    const failures: AuditEvent[] = [];
    const queue = new Queue({ engine: t.engine, redis: t.port, audit: { principal: "svc", onError: (_e, ev) => void failures.push(ev) } });
    // break only the audit: its key holds a string, so XADD fails there (the job's keys are untouched)
    await rawRedis().set(t.engine.keys.audit(), "not a stream");
    const r = await queue.enqueue({ id: "kept", payload: {} });
    expect(r).toMatchObject({ id: "kept", created: true });
    expect((await t.engine.getJob("kept")).status).toBe("pending");
    expect(failures).toMatchObject([{ action: "enqueue", jobId: "kept", outcome: "ok", principal: "svc" }]);
  });

  it("refuses a principal with spaces or none", () => {
    const t = makeEngine(transport);
    expect(() => new Queue({ engine: t.engine, redis: t.port, audit: { principal: "two words" } })).toThrow(/audit.principal/);
    expect(() => new Queue({ engine: t.engine, redis: t.port, audit: { principal: "" } })).toThrow(/audit.principal/);
  });
});

