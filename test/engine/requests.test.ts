import { describe, expect, it } from "vitest";
import { tcpPort } from "../../packages/core/src/index.ts";
import { inject } from "vitest";
import { REQUEST_RETENTION_MS } from "../../packages/core/src/requests.ts";
import { TRANSPORTS, makeEngine, rawRedis, type TestEngine } from "../support/engines.ts";

describe.each(TRANSPORTS)("worker ↔ controller messages over %s", (transport) => {
  it("ask → job waiting → controller lists and answers → worker reads the answer → job active → ack", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "wo-1", payload: { task_id: "task-9" }, type: "work_order" });
    const c = await engine.claim({ workerId: "agent-1" });
    if (c.status !== "claimed") throw new Error("no job");

    const req = await engine.askQuestion("wo-1", c.lease.token, {
      requestType: "clarification", message: "Which branch?", context: { options: ["main", "dev"] }, id: "req-1",
    });
    expect(req).toMatchObject({ id: "req-1", worker_id: "agent-1", work_order_id: "wo-1", task_id: "task-9", conversation_id: "req-1", parent_message_id: null });
    expect(Date.parse(req.expires_at) - Date.parse(req.created_at)).toBe(30 * 60_000);
    expect((await engine.getJob("wo-1")).status).toBe("waiting");

    const open = await engine.listRequests();
    expect(open.map((r) => [r.id, r.status])).toEqual([["req-1", "open"]]);
    expect((await engine.getAnswer("req-1")).status).toBe("open");

    const resp = await engine.answerRequest("req-1", { responseType: "instruction", message: "use dev", instructions: ["rebase first"], generatedBy: "human", responderId: "alice" });
    expect(resp).toMatchObject({ request_id: "req-1", worker_id: "agent-1", work_order_id: "wo-1", generated_by: "human", responder_id: "alice" });
    await expect(engine.answerRequest("req-1", { responseType: "answer", message: "again", generatedBy: "automated" })).rejects.toMatchObject({ code: "already_answered" });

    const view = await engine.getAnswer("req-1");
    expect(view).toMatchObject({ status: "answered", response: { message: "use dev", instructions: ["rebase first"] } });
    expect((await engine.getJob("wo-1")).status).toBe("active");
    expect(await engine.listRequests()).toEqual([]);
    expect((await engine.listRequests({ status: "answered" })).map((r) => r.id)).toEqual(["req-1"]);

    await engine.ack("wo-1", c.lease.token, "done");
    // a follow-up in the same thread needs a live lease
    await expect(engine.askQuestion("wo-1", c.lease.token, { requestType: "question", message: "?", conversationId: "req-1", parentMessageId: "req-1" })).rejects.toMatchObject({ code: "lease_lost" });
  });

  it("an unanswered request expires: the worker is told, the controller cannot answer, the job resumes", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {} });
    const c = await engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("no job");
    await engine.askQuestion("j", c.lease.token, { requestType: "approval", message: "deploy?", id: "r-exp", ttlMs: 60_000 });
    clock.advance(60_000);
    expect((await engine.getAnswer("r-exp")).status).toBe("expired"); // read-side, before maintenance
    await expect(engine.answerRequest("r-exp", { responseType: "approval", message: "ok", generatedBy: "human" })).rejects.toMatchObject({ code: "request_expired" });
    expect((await engine.getJob("j")).status).toBe("active");
    expect(await engine.waitForAnswer("r-exp", { timeoutMs: 5000 })).toMatchObject({ status: "expired", response: null });
  });

  it("rejects questions without a lease, unknown requests and bad input", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {} });
    await expect(engine.askQuestion("j", 1, { requestType: "question", message: "?" })).rejects.toMatchObject({ code: "lease_lost" });
    await expect(engine.askQuestion("nope", 1, { requestType: "question", message: "?" })).rejects.toMatchObject({ code: "job_not_found" });
    await expect(engine.answerRequest("nope", { responseType: "answer", message: "x", generatedBy: "human" })).rejects.toMatchObject({ code: "request_not_found" });
    await expect(engine.answerRequest("nope", { responseType: "shrug", message: "x", generatedBy: "human" } as never)).rejects.toMatchObject({ code: "validation_error" });
    await expect(engine.getAnswer("nope")).rejects.toMatchObject({ code: "request_not_found" });
  });
});

describe("waiting for an answer over TCP blocks instead of polling", () => {
  it("wakes the waiting worker when the controller answers", async () => {
    const { engine } = makeEngine("tcp");
    const blocking = tcpPort(inject("redisUrl"));
    try {
      await engine.enqueue({ id: "j", payload: {} });
      const c = await engine.claim({ workerId: "w" });
      if (c.status !== "claimed") throw new Error("no job");
      await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-block" });
      const waiting = engine.waitForAnswer("r-block", { timeoutMs: 20_000, blocking });
      await new Promise((r) => setTimeout(r, 50));
      await engine.answerRequest("r-block", { responseType: "answer", message: "42", generatedBy: "automated" });
      expect(await waiting).toMatchObject({ status: "answered", response: { message: "42" } });
    } finally {
      await blocking.close();
    }
  });

  it("wakes the waiting worker when its job is cancelled", async () => {
    const { engine } = makeEngine("tcp");
    const blocking = tcpPort(inject("redisUrl"));
    try {
      await engine.enqueue({ id: "j", payload: {} });
      const c = await engine.claim({ workerId: "w" });
      if (c.status !== "claimed") throw new Error("no job");
      await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-cancel" });
      const started = Date.now();
      const waiting = engine.waitForAnswer("r-cancel", { timeoutMs: 20_000, blocking });
      await new Promise((r) => setTimeout(r, 50));
      await engine.cancel("j", "not needed");
      expect(await waiting).toMatchObject({ status: "expired", response: null });
      expect(Date.now() - started).toBeLessThan(5000); // woken, not timed out
    } finally {
      await blocking.close();
    }
  });
});

describe.each(TRANSPORTS)("requests across deliveries over %s", (transport) => {
  it("a request of a lost delivery expires with it and does not keep the next delivery waiting", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {}, retry: { kind: "fixed", intervalsMs: [0] } });
    const first = await engine.claim({ workerId: "w1", leaseMs: 1000 });
    if (first.status !== "claimed") throw new Error("no job");
    await engine.askQuestion("j", first.lease.token, { requestType: "question", message: "old?", id: "r-old" });
    clock.advance(1000); // w1 dies while waiting: the lease is reclaimed
    const second = await engine.claim({ workerId: "w2" });
    if (second.status !== "claimed") throw new Error("not redelivered");
    expect((await engine.getAnswer("r-old")).status).toBe("expired");
    await engine.askQuestion("j", second.lease.token, { requestType: "question", message: "new?", id: "r-new" });
    await expect(engine.answerRequest("r-old", { responseType: "answer", message: "late", generatedBy: "human" })).rejects.toMatchObject({ code: "request_expired" });
    expect((await engine.getJob("j")).status).toBe("waiting"); // still waiting for r-new
    await engine.answerRequest("r-new", { responseType: "answer", message: "now", generatedBy: "human" });
    expect((await engine.getJob("j")).status).toBe("active");
    await engine.ack("j", second.lease.token);
  });
});

describe.each(TRANSPORTS)("a delivery that ends expires its open requests over %s", (transport) => {
  const endings: Record<string, (t: TestEngine, token: number) => Promise<unknown>> = {
    cancel: ({ engine }) => engine.cancel("j", "not needed"),
    ack: ({ engine }, token) => engine.ack("j", token, "gave up waiting"),
    fail: ({ engine }, token) => engine.fail("j", token, { error: { message: "boom" }, retryable: true }),
    release: ({ engine }, token) => engine.release("j", token),
    "lease reclaimed": async ({ engine, clock }) => {
      clock.advance(60_000);
      await engine.tick();
    },
  };

  it.each(Object.keys(endings))("%s: the requests leave the open list, their timers go, answers are refused", async (ending) => {
    const t = makeEngine(transport);
    const { engine, clock } = t;
    await engine.enqueue({ id: "j", payload: {}, retry: { kind: "fixed", intervalsMs: [0] } });
    const c = await engine.claim({ workerId: "w", leaseMs: 60_000 });
    if (c.status !== "claimed") throw new Error("no job");
    await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "a?", id: "r-a" });
    await engine.askQuestion("j", c.lease.token, { requestType: "approval", message: "b?", id: "r-b" });
    await engine.answerRequest("r-a", { responseType: "answer", message: "yes", generatedBy: "human" });
    expect((await engine.getJob("j")).status).toBe("waiting"); // r-b still open

    await endings[ending]!(t, c.lease.token);
    const closedAt = clock.now();

    expect(await engine.listRequests()).toEqual([]);
    expect((await engine.listRequests({ status: "expired" })).map((r) => r.id)).toEqual(["r-b"]);
    expect(await engine.getAnswer("r-a")).toMatchObject({ status: "answered" }); // an answered one stays answered
    expect(await engine.getAnswer("r-b")).toMatchObject({ status: "expired", response: null });
    await expect(engine.answerRequest("r-b", { responseType: "approval", message: "ok", generatedBy: "human" })).rejects.toMatchObject({ code: "request_expired" });
    const r = rawRedis();
    expect(await r.zrange(engine.keys.timers(), 0, -1)).not.toContain("R:r-b");
    expect(await r.zscore(engine.keys.requestsClosed(), "r-b")).toBe(String(closedAt));
    expect(await r.lrange(engine.keys.requestSignal("r-b"), 0, -1)).toEqual(["expired"]); // a blocked waiter is woken
    expect(await r.hmget(engine.keys.job("j"), "open_requests", "open_request_ids")).toEqual(["0", ""]);
  });

  it("the next delivery starts with no open requests and its own asks work as before", async () => {
    const { engine } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {} });
    const first = await engine.claim({ workerId: "w1" });
    if (first.status !== "claimed") throw new Error("no job");
    await engine.askQuestion("j", first.lease.token, { requestType: "question", message: "?", id: "r-1" });
    await engine.release("j", first.lease.token);
    const second = await engine.claim({ workerId: "w2" });
    if (second.status !== "claimed") throw new Error("not redelivered");
    await engine.askQuestion("j", second.lease.token, { requestType: "question", message: "?", id: "r-2" });
    await engine.answerRequest("r-2", { responseType: "answer", message: "go", generatedBy: "human" });
    expect((await engine.getJob("j")).status).toBe("active");
    expect(await rawRedis().hget(engine.keys.job("j"), "open_request_ids")).toBe("");
  });
});

describe.each(TRANSPORTS)("request TTL and retention from the engine's settings over %s", (transport) => {
  it("a question waits requestTtlMs unless it sets its own; its record and closed entry last requestRetentionMs after", async () => {
    const { engine, clock } = makeEngine(transport, { requestTtlMs: 5 * 60_000, requestRetentionMs: 2 * 60_000 });
    await engine.enqueue({ id: "j", payload: {} });
    const c = await engine.claim({ workerId: "w", leaseMs: 3_600_000 });
    if (c.status !== "claimed") throw new Error("no job");
    const q = await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-set" });
    expect(Date.parse(q.expires_at) - clock.now()).toBe(5 * 60_000);
    const pttl = await rawRedis().pttl(engine.keys.request("r-set"));
    expect(pttl).toBeGreaterThan(7 * 60_000 - 5_000); // expiry + retention, from the engine's clock
    expect(pttl).toBeLessThanOrEqual(7 * 60_000);
    const own = await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-own", ttlMs: 60_000 });
    expect(Date.parse(own.expires_at) - clock.now()).toBe(60_000);

    await engine.answerRequest("r-set", { responseType: "answer", message: "a", generatedBy: "human" });
    const closed = engine.keys.requestsClosed();
    clock.advance(2 * 60_000 - 1);
    await engine.tick({ trim: true });
    expect(await rawRedis().zrange(closed, 0, -1)).toContain("r-set");
    clock.advance(1);
    await engine.tick({ trim: true });
    expect(await rawRedis().zrange(closed, 0, -1)).not.toContain("r-set");
  });
});

describe.each(TRANSPORTS)("closed requests are trimmed over %s", (transport) => {
  it("the tick's trim drops closed requests older than their retention from requests:closed", async () => {
    const { engine, clock } = makeEngine(transport);
    await engine.enqueue({ id: "j", payload: {} });
    const c = await engine.claim({ workerId: "w", leaseMs: 24 * 3_600_000 });
    if (c.status !== "claimed") throw new Error("no job");
    await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-old" });
    await engine.answerRequest("r-old", { responseType: "answer", message: "a", generatedBy: "human" });
    clock.advance(10 * 60_000);
    await engine.askQuestion("j", c.lease.token, { requestType: "question", message: "?", id: "r-new" });
    await engine.answerRequest("r-new", { responseType: "answer", message: "b", generatedBy: "human" });
    const closed = engine.keys.requestsClosed();

    clock.advance(REQUEST_RETENTION_MS - 10 * 60_000 - 1); // r-old closed just under the retention ago
    await engine.tick({ trim: true });
    expect(await rawRedis().zrange(closed, 0, -1)).toEqual(["r-old", "r-new"]);

    clock.advance(1); // r-old's retention has passed, r-new's has not
    expect((await engine.tick({ trim: true })).trimmed).toBe(1);
    expect(await rawRedis().zrange(closed, 0, -1)).toEqual(["r-new"]);
    expect((await engine.listRequests({ status: "answered" })).map((r) => r.id)).toEqual(["r-new"]);

    clock.advance(10 * 60_000);
    await engine.tick(); // without trim the index is left alone
    expect(await rawRedis().zcard(closed)).toBe(1);
    await engine.tick({ trim: true });
    expect(await rawRedis().zcard(closed)).toBe(0);
  });
});
