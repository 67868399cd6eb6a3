/**
 * Engine.ackMany: many acks in one call, each checked on its own, with the caller's next jobs
 * leased in the same call. A batch must leave Redis exactly as the same acks made one at a time.
 */
import { describe, expect, it } from "vitest";
import { EncodedResult, MAX_ACK_BATCH, type Engine, type Job } from "../../packages/core/src/index.ts";
import { TRANSPORTS, makeEngine, rawRedis, snapshot } from "../support/engines.ts";

type Leased = { job: { id: string }; lease: { token: number } };

async function claimAll(engine: Engine, workerId: string, total: number, leaseMs?: number): Promise<Leased[]> {
  const out: Leased[] = [];
  for (let i = 0; i < 10 && out.length < total; i++) {
    const r = await engine.claimBatch({ workerId, count: Math.min(100, total - out.length), ...(leaseMs === undefined ? {} : { leaseMs }) });
    if (r.jobs.length === 0) break;
    out.push(...r.jobs);
  }
  if (out.length !== total) throw new Error(`claimed ${out.length} of ${total}`);
  return out;
}

/** A job record without the fields the server's own clock decides (the record's PTTL). */
const comparable = ({ expiresAt: _ttl, ...rest }: Job) => rest;

/** The stream, lease-timer and index state an ack leaves, for one prefix. */
async function ackState(engine: Engine, queues: readonly string[]) {
  const r = rawRedis();
  const out: Record<string, unknown> = { timers: await r.zrange(engine.keys.timers(), 0, -1, "WITHSCORES") };
  for (const q of queues) {
    const stream = engine.keys.ready(q, "autonomous");
    out[q] = {
      xlen: await r.xlen(stream),
      pending: await r.xpending(stream, "workers"),
      done: await r.zrange(engine.keys.done(q), 0, -1, "WITHSCORES"),
      durations: await r.lrange(engine.keys.durations(q), 0, -1),
    };
  }
  return out;
}

describe.each(TRANSPORTS)("ackMany over %s", (transport) => {
  it(`completes a full batch (${MAX_ACK_BATCH} jobs, two queues) exactly as one ack per job would`, async () => {
    const batched = makeEngine(transport);
    const single = makeEngine(transport);
    const inputs = Array.from({ length: MAX_ACK_BATCH }, (_, i) => ({
      id: `j${String(i).padStart(3, "0")}`,
      payload: { i },
      ...(i % 5 === 0 ? { priority: "high" as const } : {}),
      ...(i % 7 === 0 ? { callbackUrl: `https://example.test/cb/${i}` } : {}),
    }));
    const results = new Map(inputs.map((input, i): [string, unknown] => [input.id, i % 3 === 0 ? { n: i, text: "ünï" } : i % 3 === 1 ? `r${i}` : null]));

    for (const { engine, clock } of [batched, single]) {
      await engine.enqueueBatch(inputs);
      clock.advance(100);
    }
    const leasesB = await claimAll(batched.engine, "w", inputs.length);
    const leasesS = await claimAll(single.engine, "w", inputs.length);
    batched.clock.advance(500);
    single.clock.advance(500);

    const { outcomes, next } = await batched.engine.ackMany(
      leasesB.map((c, i) => ({ jobId: c.job.id, token: c.lease.token, result: i % 2 === 0 ? results.get(c.job.id) : batched.engine.encodeResult(results.get(c.job.id)) })),
    );
    expect(next).toEqual([]);
    expect(outcomes).toHaveLength(inputs.length);
    const singles = [];
    for (const c of leasesS) singles.push(await single.engine.ack(c.job.id, c.lease.token, results.get(c.job.id)));
    // Same outcome per job as the single ack, in input order.
    expect(outcomes).toEqual(singles.map(({ next: _n, ...o }) => ({ ok: true, ...o })));
    outcomes.forEach((o, i) => {
      const id = leasesB[i]!.job.id;
      const n = Number(id.slice(1));
      expect(o).toEqual({ ok: true, durationMs: 500, queue: n % 5 === 0 ? "high_priority" : "default", attempts: 1, callbackUrl: n % 7 === 0 ? `https://example.test/cb/${n}` : null });
    });

    for (const { id } of inputs) {
      const job = await batched.engine.getJob(id);
      expect(job).toMatchObject({ status: "completed", result: results.get(id) ?? null, error: null, leaseExpiresAt: null, attempts: 1, worker: "w" });
      expect(job.history.map((h) => h.status)).toEqual(["pending", "active", "completed"]);
      expect(job.history.at(-1)).toMatchObject({ status: "completed", attempt: 1, worker: "w" });
      expect(comparable(job)).toEqual(comparable(await single.engine.getJob(id)));
      expect(job.expiresAt).not.toBeNull();
    }

    const queues = ["high_priority", "default"];
    const stats = await batched.engine.stats(queues);
    expect(stats).toEqual(await single.engine.stats(queues));
    expect(stats.map((s) => [s.queue, s.finished, s.pending, s.started])).toEqual([
      ["high_priority", 40, 0, 0],
      ["default", 160, 0, 0],
    ]);
    const state = await ackState(batched.engine, queues);
    expect(state).toEqual(await ackState(single.engine, queues));
    // Every delivery ended: the entries left the streams and the pending lists, the lease timers are gone.
    expect(state).toMatchObject({
      timers: [],
      high_priority: { xlen: 0, pending: [0, null, null, null] },
      default: { xlen: 0, pending: [0, null, null, null] },
    });
    expect((state["default"] as { durations: string[] }).durations).toHaveLength(160);
  });

  it("checks each ack on its own: a reclaimed, a re-claimed, a cancelled and an unknown job are refused, the rest complete", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch([
      { id: "lost", payload: {}, retry: { kind: "fixed", intervalsMs: [0] } },
      { id: "expired", payload: {}, retry: { kind: "fixed", intervalsMs: [60_000] } },
    ]);
    const lost = await claimAll(engine, "w1", 1, 1000);
    const expired = await claimAll(engine, "w1", 1, 2000);
    await engine.enqueueBatch(["a", "b", "c", "gone"].map((id) => ({ id, payload: {} })));
    const rest = await claimAll(engine, "w1", 4, 60_000);
    clock.advance(2000);
    // "lost" is reclaimed by another worker's claim and leased again with a newer token;
    // "expired" is reclaimed by maintenance and waits out its retry backoff.
    expect(await engine.tick()).toMatchObject({ reclaimed: 2 });
    const again = await claimAll(engine, "w2", 1);
    expect(again[0]).toMatchObject({ job: { id: "lost" }, lease: { token: 2 } });
    await engine.cancel("gone", "no longer needed");
    const byId = new Map([...lost, ...expired, ...rest].map((c): [string, number] => [c.job.id, c.lease.token]));

    const items = ["a", "lost", "ghost", "b", "expired", "gone", "c"].map((id) => ({ jobId: id, token: byId.get(id) ?? 1, result: { by: id } }));
    const { outcomes } = await engine.ackMany(items);
    expect(outcomes).toEqual([
      { ok: true, durationMs: 2000, queue: "default", attempts: 1, callbackUrl: null },
      { ok: false, code: "lease_lost", status: "active" },
      { ok: false, code: "job_not_found" },
      { ok: true, durationMs: 2000, queue: "default", attempts: 1, callbackUrl: null },
      { ok: false, code: "lease_lost", status: "retrying" },
      { ok: false, code: "lease_lost", status: "cancelled" },
      { ok: true, durationMs: 2000, queue: "default", attempts: 1, callbackUrl: null },
    ]);
    for (const id of ["a", "b", "c"]) expect(await engine.getJob(id)).toMatchObject({ status: "completed", result: { by: id } });
    expect(await engine.getJob("lost")).toMatchObject({ status: "active", worker: "w2", leaseToken: 2, result: null, attempts: 2 });
    expect(await engine.getJob("expired")).toMatchObject({ status: "retrying", result: null });
    expect(await engine.getJob("gone")).toMatchObject({ status: "cancelled", result: null, cancelReason: "no longer needed" });
    await expect(engine.getJob("ghost")).rejects.toMatchObject({ code: "job_not_found" });

    // Only the refused job still leased keeps its delivery and lease timer.
    const stream = engine.keys.ready("default", "autonomous");
    expect(await rawRedis().xpending(stream, "workers")).toEqual([1, expect.any(String), expect.any(String), [["w2", "1"]]]);
    expect(await rawRedis().zrange(engine.keys.timers(), 0, -1)).toEqual(expect.arrayContaining(["L:lost"]));
    expect(await rawRedis().zrange(engine.keys.timers(), 0, -1)).not.toEqual(expect.arrayContaining(["L:a"]));
    expect(await rawRedis().zrange(engine.keys.done("default"), 0, -1)).toEqual(["a", "b", "c"]);
    expect(await rawRedis().llen(engine.keys.durations("default"))).toBe(3);
    // The new holder still completes its job.
    await engine.ack("lost", 2, "second try");
    expect(await engine.getJob("lost")).toMatchObject({ status: "completed", result: "second try" });
  });

  it("ends the deliveries on every stream in the batch (three permission levels, two queues)", async () => {
    const { engine } = makeEngine(transport);
    const levels = ["autonomous", "supervised", "human_required"] as const;
    await engine.enqueueBatch(
      levels.flatMap((level) => [
        { id: `${level}-d`, payload: {}, permissionLevel: level },
        { id: `${level}-h`, payload: {}, permissionLevel: level, priority: "high" as const },
      ]),
    );
    const r = await engine.claimBatch({ workerId: "w", permissionLevels: levels, count: 10 });
    expect(r.jobs).toHaveLength(6);
    const { outcomes } = await engine.ackMany(r.jobs.map((c) => ({ jobId: c.job.id, token: c.lease.token })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const q of ["default", "high_priority"]) {
      for (const level of levels) {
        const stream = engine.keys.ready(q, level);
        expect(await rawRedis().xlen(stream)).toBe(0);
        expect(await rawRedis().xpending(stream, "workers")).toEqual([0, null, null, null]);
      }
    }
    expect(await rawRedis().zcard(engine.keys.timers())).toBe(0);
  });

  it("the same job twice in one batch completes once; the second ack is refused as already completed", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "twice", payload: {} }, { id: "other", payload: {} }]);
    const [t, o] = await claimAll(engine, "w", 2);
    clock.advance(300);
    const { outcomes } = await engine.ackMany([
      { jobId: "twice", token: t!.lease.token, result: "first" },
      { jobId: "other", token: o!.lease.token, result: "o" },
      { jobId: "twice", token: t!.lease.token, result: "second" },
    ]);
    expect(outcomes).toEqual([
      { ok: true, durationMs: 300, queue: "default", attempts: 1, callbackUrl: null },
      { ok: true, durationMs: 300, queue: "default", attempts: 1, callbackUrl: null },
      { ok: false, code: "lease_lost", status: "completed" },
    ]);
    const job = await engine.getJob("twice");
    expect(job).toMatchObject({ status: "completed", result: "first" });
    expect(job.history.map((h) => h.status)).toEqual(["pending", "active", "completed"]);
    expect(await rawRedis().zrange(engine.keys.done("default"), 0, -1)).toEqual(["other", "twice"]);
    expect(await rawRedis().llen(engine.keys.durations("default"))).toBe(2);
    expect(await rawRedis().xlen(engine.keys.ready("default", "autonomous"))).toBe(0);
  });

  it("leases the caller's next jobs in the same call, in priority order, with fresh leases", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "d1", payload: {} }, { id: "d2", payload: {} }, { id: "d3", payload: { n: 3 } }]);
    const first = await claimAll(engine, "w", 2);
    expect(first.map((c) => c.job.id)).toEqual(["d1", "d2"]);
    await engine.enqueueBatch([
      { id: "l1", priority: "low", payload: {} },
      { id: "h1", priority: "high", payload: { n: 1 } },
      { id: "c1", priority: "critical", payload: {} },
      { id: "d4", payload: {} },
    ]);
    clock.advance(1000);
    const r = await engine.ackMany(first.map((c) => ({ jobId: c.job.id, token: c.lease.token })), {
      next: { workerId: "w", count: 4, leaseMs: 30_000 },
    });
    expect(r.outcomes.every((o) => o.ok)).toBe(true);
    // high_priority (critical and high both go there, FIFO) before default, low_priority last.
    expect(r.next.map((n) => n.job.id)).toEqual(["h1", "c1", "d3", "d4"]);
    for (const n of r.next) {
      expect(n.lease).toEqual({ token: 1, expiresAt: clock.now() + 30_000 });
      expect(n.job.attempt).toBe(1);
      expect(await engine.getJob(n.job.id)).toMatchObject({ status: "active", worker: "w", leaseToken: 1, attempts: 1 });
    }
    expect(r.next[0]!.job).toMatchObject({ queue: "high_priority", priority: "high", payload: { n: 1 }, lastError: null });
    expect(r.next[2]!.job).toMatchObject({ queue: "default", priority: "normal", payload: { n: 3 } });
    expect(await engine.getJob("l1")).toMatchObject({ status: "pending" });
    expect(await rawRedis().zcard(engine.keys.timers())).toBe(4);

    // The leased jobs are acked in turn; with nothing left but l1, a queue filter leaves it pending.
    const r2 = await engine.ackMany(r.next.map((n) => ({ jobId: n.job.id, token: n.lease.token, result: n.job.id })), {
      next: { workerId: "w", queues: ["default", "high_priority"], count: 10 },
    });
    expect(r2.outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
    expect(r2.next).toEqual([]);
    expect(await engine.getJob("l1")).toMatchObject({ status: "pending" });
    expect(await engine.getJob("c1")).toMatchObject({ status: "completed", result: "c1" });
  });

  it("with a holder, every item must belong to it: a mismatch refuses each ack and writes nothing", async () => {
    const { engine, prefix } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "x", payload: {} }, { id: "y", payload: {} }, { id: "z", payload: {} }]);
    const mine = await claimAll(engine, "team-a:pod-1", 2);
    const theirs = await claimAll(engine, "team-b:pod-1", 1);
    const items = [...mine, ...theirs].map((c) => ({ jobId: c.job.id, token: c.lease.token, result: "r" }));
    const before = await snapshot(prefix);
    for (const holder of ["team-c", "team", "team-a:pod"]) {
      const r = await engine.ackMany(items, { holder });
      expect(r.outcomes).toEqual(items.map(() => ({ ok: false, code: "lease_lost", status: "active" })));
    }
    expect(await snapshot(prefix)).toEqual(before);
    const r = await engine.ackMany(items, { holder: "team-a" });
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    expect(r.outcomes[2]).toEqual({ ok: false, code: "lease_lost", status: "active" });
    expect(await engine.getJob("z")).toMatchObject({ status: "active", worker: "team-b:pod-1" });
    expect((await engine.ackMany([items[2]!], { holder: "team-b:pod-1" })).outcomes[0]).toMatchObject({ ok: true });
  });

  it("rejects the whole call on bad input before anything is written, even with valid items around it", async () => {
    const { engine, prefix } = makeEngine(transport, { maxPayloadBytes: 1024 });
    await engine.enqueueBatch([{ id: "ok1", payload: {} }, { id: "ok2", payload: {} }, { id: "waiting", payload: {} }]);
    const held = await claimAll(engine, "w", 2);
    const good = held.map((c) => ({ jobId: c.job.id, token: c.lease.token, result: "fine" }));
    const before = await snapshot(prefix);
    const tooMany = Array.from({ length: MAX_ACK_BATCH + 1 }, (_, i) => ({ jobId: i === 0 ? "ok1" : `n${i}`, token: 1 }));

    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => engine.ackMany([]), "validation_error"],
      [() => engine.ackMany(tooMany), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "has space", token: 1 }]), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "", token: 1 }]), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "ok1", token: 0 }]), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "ok1", token: 1.5 }]), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "ok1", token: Number.MAX_SAFE_INTEGER + 2 }]), "validation_error"],
      [() => engine.ackMany([...good, { jobId: "ok2", token: 1, result: "y".repeat(2000) }]), "payload_too_large"],
      [() => engine.ackMany([{ jobId: "ok1", token: 1, result: "ü".repeat(600) }, ...good]), "payload_too_large"],
      [() => engine.ackMany([...good, { jobId: "ok2", token: 1, result: () => 1 }]), "validation_error"],
      [() => engine.ackMany(good, { next: { workerId: "w", queues: ["nope"] } }), "unknown_queue"],
      [() => engine.ackMany(good, { next: { workerId: "bad worker" } }), "validation_error"],
      [() => engine.ackMany(good, { next: { workerId: "w", count: 0 } }), "validation_error"],
      [() => engine.ackMany(good, { next: { workerId: "w", count: 101 } }), "validation_error"],
      [() => engine.ackMany(good, { next: { workerId: "w", leaseMs: -1 } }), "validation_error"],
    ];
    for (const [call, code] of cases) await expect(call()).rejects.toMatchObject({ code });
    expect(() => engine.encodeResult("z".repeat(1100))).toThrow(expect.objectContaining({ code: "payload_too_large" }));
    expect(() => engine.encodeResult(Symbol("s"))).toThrow(expect.objectContaining({ code: "validation_error" }));
    expect(await snapshot(prefix)).toEqual(before);

    // The same items go through once the bad one is gone.
    const r = await engine.ackMany(good);
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true]);
  });

  it("stores an EncodedResult as it was encoded, not encoded again", async () => {
    const { engine } = makeEngine(transport, { maxPayloadBytes: 1024 });
    await engine.enqueueBatch([{ id: "e1", payload: {} }, { id: "e2", payload: {} }, { id: "e3", payload: {} }]);
    const [e1, e2, e3] = await claimAll(engine, "w", 3);
    const encoded = engine.encodeResult({ nested: ["a", 1, null], s: "ü" });
    expect(encoded).toBeInstanceOf(EncodedResult);
    expect(encoded.json).toBe('{"nested":["a",1,null],"s":"ü"}');
    const r = await engine.ackMany([
      { jobId: "e1", token: e1!.lease.token, result: encoded },
      { jobId: "e2", token: e2!.lease.token, result: engine.encodeResult(undefined) },
      { jobId: "e3", token: e3!.lease.token, result: engine.encodeResult("within the limit: " + "x".repeat(1002)) },
    ]);
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    expect((await engine.getJob("e1")).result).toEqual({ nested: ["a", 1, null], s: "ü" });
    expect((await engine.getJob("e2")).result).toBeNull();
    expect(String((await engine.getJob("e3")).result)).toHaveLength(1020);
  });

  it("releases a job's dependents when its parent is acked in a batch, and can lease them in the same call", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueueBatch([
      { id: "p1", payload: {} },
      { id: "p2", payload: {} },
      { id: "solo", payload: {} },
      { id: "child", priority: "high", payload: {}, dependsOn: ["p1", "p2"] },
      { id: "late", payload: {}, dependsOn: ["p1"], delayMs: 60_000 },
    ]);
    const [p1, p2, solo] = await claimAll(engine, "w", 3);
    expect((await engine.stats(["high_priority"]))[0]).toMatchObject({ deferred: 1, pending: 0 });

    // Both parents acked in one batch: the child's last dependency falls inside the same script.
    const r = await engine.ackMany(
      [
        { jobId: "p1", token: p1!.lease.token },
        { jobId: "solo", token: solo!.lease.token },
        { jobId: "p2", token: p2!.lease.token },
      ],
      { next: { workerId: "w", count: 5 } },
    );
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    expect(r.next.map((n) => n.job.id)).toEqual(["child"]);
    expect(await engine.getJob("child")).toMatchObject({ status: "active", worker: "w" });
    expect((await engine.getJob("child")).history.map((h) => h.status)).toEqual(["deferred", "pending", "active"]);
    expect(await engine.getJob("late")).toMatchObject({ status: "scheduled" });
    expect((await engine.stats(["high_priority", "default"])).map((s) => s.deferred)).toEqual([0, 0]);
  });

  it("with tipsFor, a next-claim that reads the streams dry reports the tips and next timer as an empty claim would", async () => {
    const { engine } = makeEngine(transport);
    const control = `${engine.keys.prefix}worker:w:control`;
    await engine.enqueueBatch([{ id: "a", payload: {} }, { id: "b", payload: {} }, { id: "later", payload: {}, delayMs: 60_000 }]);
    const [a] = await claimAll(engine, "w", 1);
    // count 1 and one job left: filled, so nothing more is reported
    const full = await engine.ackMany([{ jobId: "a", token: a!.lease.token }], { next: { workerId: "w", queues: ["default"], count: 1, tipsFor: [control] } });
    expect(full.next.map((c) => c.job.id)).toEqual(["b"]);
    expect(full.idle).toBeNull();
    // count 5, nothing left: what an empty claim reports, in the same order
    const dry = await engine.ackMany([{ jobId: "b", token: full.next[0]!.lease.token }], { next: { workerId: "w", queues: ["default"], count: 5, tipsFor: [control] } });
    expect(dry.next).toEqual([]);
    const empty = await engine.claimBatch({ workerId: "w", queues: ["default"], count: 5, tipsFor: [control] });
    expect(dry.idle).toEqual({ nextTimerAt: empty.nextTimerAt, tips: empty.tips });
    expect(dry.idle!.nextTimerAt).not.toBeNull(); // the delayed job's timer
    expect(dry.idle!.tips!.map((t) => t.key)).toEqual([control, engine.keys.ready("default", "autonomous")]);
    // an entry added after the ack has a newer id than the reported tip: a wait on the tips sees it
    await engine.enqueue({ id: "c", payload: {} });
    const tip = dry.idle!.tips![1]!.afterId;
    const [[, entries]] = (await rawRedis().xread("STREAMS", engine.keys.ready("default", "autonomous"), tip)) as [[string, Array<[string, string[]]>]];
    expect(entries.map(([, f]) => f[1])).toEqual(["c"]);
  });

  it("without next, a released dependent stays pending for any worker", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueueBatch([{ id: "parent", payload: {} }, { id: "kid", payload: {}, dependsOn: ["parent"] }]);
    const [p] = await claimAll(engine, "w", 1);
    expect(await engine.getJob("kid")).toMatchObject({ status: "deferred" });
    const r = await engine.ackMany([{ jobId: "parent", token: p!.lease.token }]);
    expect(r).toEqual({ outcomes: [{ ok: true, durationMs: 0, queue: "default", attempts: 1, callbackUrl: null }], next: [], idle: null });
    expect(await engine.getJob("kid")).toMatchObject({ status: "pending" });
    expect(await engine.claim({ workerId: "other" })).toMatchObject({ status: "claimed", job: { id: "kid" } });
  });
});
