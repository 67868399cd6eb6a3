import { describe, expect, it } from "vitest";
import { TRANSPORTS, makeEngine, snapshot } from "../support/engines.ts";

describe.each(TRANSPORTS)("bad input over %s: a typed error with a stable code, and nothing in Redis changes", (transport) => {
  it("rejects invalid jobs, unknown queues, oversized payloads, wrong tokens and unknown ids", async () => {
    const { engine, prefix } = makeEngine(transport, { maxPayloadBytes: 1024 });
    await engine.enqueue({ id: "held", payload: {} });
    const c = await engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("no job");
    const before = await snapshot(prefix);

    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => engine.enqueue({ id: "has space", payload: {} }), "validation_error"],
      [() => engine.enqueue({ payload: undefined } as never), "validation_error"],
      [() => engine.enqueue({ payload: {}, priority: "urgent" } as never), "validation_error"],
      [() => engine.enqueue({ payload: {}, bogus: 1 } as never), "validation_error"],
      [() => engine.enqueue({ payload: {}, delayMs: 5, runAt: "2026-11-24T00:00:00Z" }), "validation_error"],
      [() => engine.enqueue({ payload: {}, callbackUrl: "ftp://x" }), "validation_error"],
      [() => engine.enqueue({ payload: {}, queue: "nope" }), "unknown_queue"],
      [() => engine.enqueue({ payload: {}, queue: "Bad Name" }), "validation_error"],
      [() => engine.enqueue({ payload: "x".repeat(2000) }), "payload_too_large"],
      [() => engine.enqueueBatch([{ id: "ok1", payload: {} }, { id: "ok2", payload: {}, queue: "nope" }]), "unknown_queue"],
      [() => engine.enqueueBatch([{ id: "ok1", payload: {} }, { id: "b a d", payload: {} }]), "validation_error"],
      [() => engine.ack("held", c.lease.token + 1), "lease_lost"],
      [() => engine.ack("held", 0), "validation_error"],
      [() => engine.ack("held", c.lease.token, "y".repeat(2000)), "payload_too_large"],
      [() => engine.heartbeat("held", 99), "lease_lost"],
      [() => engine.heartbeat("held", c.lease.token, { extendMs: -5 }), "validation_error"],
      [() => engine.fail("held", 99, { error: { message: "x" } }), "lease_lost"],
      [() => engine.fail("held", c.lease.token, { error: {} as never }), "validation_error"],
      [() => engine.release("held", 99), "lease_lost"],
      [() => engine.ack("ghost", 1), "job_not_found"],
      [() => engine.cancel("ghost"), "job_not_found"],
      [() => engine.getJob("ghost"), "job_not_found"],
      [() => engine.getJob("../../etc"), "job_not_found"],
      [() => engine.claim({ workerId: "w", queues: ["nope"] }), "unknown_queue"],
      [() => engine.claim({ workerId: "w", permissionLevels: ["root" as never] }), "validation_error"],
      [() => engine.claim({ workerId: "w", leaseMs: 1.5 }), "validation_error"],
      [() => engine.stats(["nope"]), "unknown_queue"],
    ];
    for (const [call, code] of cases) await expect(call()).rejects.toMatchObject({ code });
    expect(await snapshot(prefix)).toEqual(before);
  });
});
