/**
 * Handler contract tests: the real functions/http/<route>.ts handlers, invoked with literal API
 * Gateway v2 events, against the Upstash REST stand-in (the Lambda path). Every response body is
 * checked against the schema the OpenAPI document publishes for it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, WorkerRegistry, type OperationName } from "../../packages/core/src/index.ts";
import { API_ROUTES } from "../../functions/routes.ts";
import { openPort, rawRedis } from "../support/engines.ts";
import { call, configureApiEnv, createKey, handlerOf, SAMPLE, toReply, v2Event, type ApiTestEnv, type EventInit, type Reply } from "./support.ts";

let env: ApiTestEnv;
const K: Record<"producer" | "worker" | "worker2" | "supervisor" | "controller" | "admin", string> = {
  producer: "", worker: "", worker2: "", supervisor: "", controller: "", admin: "",
};

beforeAll(async () => {
  env = configureApiEnv();
  K.admin = env.adminKey;
  K.producer = await createKey(K.admin, "ci-bot", ["producer"]);
  K.worker = await createKey(K.admin, "pool-a", ["worker"]);
  K.worker2 = await createKey(K.admin, "pool-b", ["worker"]);
  K.supervisor = await createKey(K.admin, "pool-s", ["worker"], ["supervised"]);
  K.controller = await createKey(K.admin, "lead", ["controller"]);
});

/** Calls a route and checks the body against its documented schema (success or error). */
async function ok(name: OperationName, init: EventInit, status?: number): Promise<Reply> {
  const r = await call(name, init);
  if (status !== undefined) expect(r.status, JSON.stringify(r.body)).toBe(status);
  const spec = OPERATIONS[name].responses[r.status];
  expect(spec, `${name} returned undocumented ${r.status}: ${JSON.stringify(r.body)}`).toBeDefined();
  spec!.schema.parse(r.body);
  return r;
}

async function err(name: OperationName, init: EventInit, status: number, code: string): Promise<Reply> {
  const r = await call(name, init);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
  expect(typeof r.body.error.details).toBe("object");
  return r;
}

const workOrder = (id: string, extra: Record<string, unknown> = {}) => ({
  id: `msg-${id}`,
  task_id: `task-${id}`,
  work_order_id: id,
  task_type: "bugfix",
  permission_level: "autonomous",
  priority: "high",
  repository_url: "https://github.com/acme/app",
  branch_name: "fix/login",
  title: "Fix login",
  description: "Users cannot log in",
  created_at: "2026-11-23T12:00:00Z",
  ...extra,
});

async function claimJob(key: string, body: Record<string, unknown> = {}) {
  const r = await ok("claim", { key, body }, 200);
  expect(r.body.status).toBe("claimed");
  return r.body as { job: { id: string; payload: any }; lease: { token: number }; workerId: string };
}

describe("every route, successfully", () => {
  it("producer → worker → controller → DLQ → admin, each response matching its published schema", async () => {
    // producers: a work order (idempotent) and a generic job
    const e1 = await ok("enqueue", { key: K.producer, body: workOrder("wo-1") }, 201);
    expect(e1.body).toMatchObject({ id: "wo-1", queue: "high_priority", created: true });
    const again = await ok("enqueue", { key: K.producer, body: workOrder("wo-1") }, 200);
    expect(again.body.created).toBe(false);
    const batch = await ok("enqueueBatch", { key: K.producer, body: { jobs: [{ id: "g-1", type: "email", payload: { to: "a@b.c" }, priority: "low" }, workOrder("wo-2", { priority: "normal" })] } }, 201);
    expect(batch.body.jobs.map((j: { id: string }) => j.id)).toEqual(["g-1", "wo-2"]);
    expect((await ok("getJob", { key: K.producer, params: { id: "wo-1" } }, 200)).body.status).toBe("pending");

    // workers: claim (priority order), heartbeat, ask, controller answers, worker reads it, ack
    const c1 = await claimJob(K.worker, { workerId: "proc-1" });
    expect(c1.job.id).toBe("wo-1");
    expect(c1.workerId).toBe("pool-a:proc-1");
    const hb = await ok("heartbeat", { key: K.worker, params: { id: "wo-1" }, body: { token: c1.lease.token, progress: { pct: 10 } } }, 200);
    expect(hb.body.id).toBe("wo-1");
    const ask = await ok("askQuestion", {
      key: K.worker,
      params: { id: "wo-1" },
      body: { token: c1.lease.token, request_type: "clarification", message: "Which login page?", context: { files: ["a.ts"] }, conversation_id: "conv-1" },
    }, 201);
    expect(ask.body).toMatchObject({ work_order_id: "wo-1", task_id: "task-wo-1", worker_id: "pool-a:proc-1", conversation_id: "conv-1", parent_message_id: null });
    expect((await ok("getJob", { key: K.controller, params: { id: "wo-1" } }, 200)).body.status).toBe("waiting");
    const open = await ok("listRequests", { key: K.controller }, 200);
    expect(open.body.requests.map((q: { id: string }) => q.id)).toContain(ask.body.id);
    const pending = await ok("getAnswer", { key: K.worker, params: { requestId: ask.body.id } }, 200);
    expect(pending.body.status).toBe("open");
    const ans = await ok("answerRequest", {
      key: K.controller,
      params: { requestId: ask.body.id },
      body: { response_type: "instruction", message: "The SSO one", instructions: ["use /sso"], generated_by: "human" },
    }, 201);
    expect(ans.body).toMatchObject({ request_id: ask.body.id, responder_id: "lead", worker_id: "pool-a:proc-1" });
    const got = await ok("getAnswer", { key: K.worker, params: { requestId: ask.body.id }, query: { waitMs: "1000" } }, 200);
    expect(got.body.status).toBe("answered");
    expect(got.body.response.message).toBe("The SSO one");
    const ack = await ok("ack", { key: K.worker, params: { id: "wo-1" }, body: { token: c1.lease.token, result: { pr: 7 } } }, 200);
    expect(ack.body.status).toBe("completed");
    expect((await ok("getJob", { key: K.producer, params: { id: "wo-1" } }, 200)).body.result).toEqual({ pr: 7 });

    // failure → DLQ → triage
    const c2 = await claimJob(K.worker);
    expect(c2.job.id).toBe("wo-2");
    const f = await ok("fail", { key: K.worker, params: { id: "wo-2" }, body: { token: c2.lease.token, error: { name: "RepoGone", message: "repository missing" }, retryable: false } }, 200);
    expect(f.body.outcome).toBe("dead_lettered");
    const list = await ok("dlqList", { key: K.controller, query: { queue: "default", reason: "non_retryable", error: "MISSING", since: "2020-01-01T00:00:00Z", limit: "10" } }, 200);
    expect(list.body.entries.map((e: { id: string }) => e.id)).toEqual(["wo-2"]);
    expect((await ok("dlqShow", { key: K.controller, params: { id: "wo-2" } }, 200)).body.error.message).toBe("repository missing");
    const rep = await ok("dlqReplay", { key: K.controller, body: { ids: ["wo-2", "nope"] } }, 200);
    expect(rep.body.results).toEqual([{ id: "wo-2", outcome: "replayed" }, { id: "nope", outcome: "not_found" }]);
    expect((await ok("dlqReplay", { key: K.controller, body: { ids: ["wo-2"] } }, 200)).body.results[0].outcome).toBe("not_in_dlq");

    // release, cancel
    const c3 = await claimJob(K.worker);
    expect(c3.job.id).toBe("wo-2");
    expect((await ok("release", { key: K.worker, params: { id: "wo-2" }, body: { token: c3.lease.token } }, 200)).body.status).toBe("pending");
    expect((await ok("cancelJob", { key: K.producer, params: { id: "wo-2" }, body: { reason: "obsolete" } }, 200)).body.previous).toBe("pending");
    expect((await ok("cancelJob", { key: K.producer, params: { id: "g-1" } }, 200)).body.previous).toBe("pending");

    // purge (admin)
    await ok("enqueue", { key: K.producer, body: { id: "p-1", payload: 1, maxRetries: 0 } }, 201);
    await ok("enqueue", { key: K.producer, body: { id: "p-2", payload: 2, maxRetries: 0 } }, 201);
    for (let i = 0; i < 2; i++) {
      const c = await claimJob(K.worker);
      await ok("fail", { key: K.worker, params: { id: c.job.id }, body: { token: c.lease.token, error: { message: "boom" } } }, 200);
    }
    await ok("dlqPurgeOne", { key: K.admin, params: { id: "p-1" } }, 200);
    expect((await ok("dlqPurgeAll", { key: K.admin, query: { queue: "default" } }, 200)).body.purged).toBe(1);

    // job lists by state: completed (wo-1), failed (p-2 was purged; none), cancelled ones in none
    const done = await ok("listJobs", { key: K.producer, query: { queue: "high_priority", state: "completed", limit: "10" } }, 200);
    expect(done.body.jobs.map((j: { id: string; status: string }) => [j.id, j.status])).toEqual([["wo-1", "completed"]]);
    expect(done.body.nextCursor).toBeNull();
    await ok("enqueue", { key: K.producer, body: { id: "l-1", payload: {} } }, 201);
    await ok("enqueue", { key: K.producer, body: { id: "l-2", payload: {} } }, 201);
    const page1 = await ok("listJobs", { key: K.controller, query: { state: "pending", limit: "1" } }, 200);
    expect(page1.body.jobs.map((j: { id: string }) => j.id)).toEqual(["l-1"]);
    const page2 = await ok("listJobs", { key: K.controller, query: { state: "pending", limit: "1", cursor: page1.body.nextCursor } }, 200);
    expect(page2.body.jobs.map((j: { id: string }) => j.id)).toEqual(["l-2"]);

    // observability and admin
    const stats = await ok("stats", { key: K.worker }, 200);
    expect(stats.body.queues.high_priority.finished).toBe(1);
    expect(Object.keys(stats.body.queues)).toEqual(["high_priority", "default", "low_priority"]);
    const keys = await ok("keysList", { key: K.admin, query: { principal: "ci-bot" } }, 200);
    expect(keys.body.keys).toHaveLength(1);
    expect(JSON.stringify(keys.body)).not.toMatch(/hash|ws_[a-z0-9]+_/);
    const tmp = await ok("keysCreate", { key: K.admin, body: { principal: "tmp", roles: ["producer"], expiresInDays: 1, name: "temp" } }, 201);
    const revoked = await ok("keysRevoke", { key: K.admin, params: { id: tmp.body.id } }, 200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const audit = await ok("auditList", { key: K.admin, query: { jobId: "wo-1" } }, 200);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(["ack", "answerRequest", "askQuestion", "heartbeat", "claim", "enqueue", "enqueue"]);
    expect(audit.body.entries[0]).toMatchObject({ principal: "pool-a", outcome: "ok", status: 200 });
    expect(audit.body.entries[1]).toMatchObject({ principal: "lead", outcome: "ok", status: 201 });
    const doc = await ok("openapi", { key: K.producer }, 200);
    expect(doc.body.openapi).toBe("3.1.0");
  });
});

const ROLE_KEYS = ["producer", "worker", "controller", "admin"] as const;

describe("auth matrix: every route × no key / bad key / wrong role / right role", () => {
  it.each(API_ROUTES.map((r) => [r.name as OperationName]))("%s", async (name) => {
    const sample = SAMPLE[name];
    await err(name, { ...sample, key: null }, 401, "unauthorized");
    await err(name, { ...sample, key: "ws_abcd1234_" + "x".repeat(43) }, 401, "unauthorized");
    await err(name, { ...sample, key: "not-a-key" }, 401, "unauthorized");
    await err(name, { ...sample, key: env.adminKey.slice(0, -4) + "AAAA" }, 401, "unauthorized");
    const allowed = OPERATIONS[name].roles;
    for (const role of ROLE_KEYS) {
      const r = await call(name, { ...sample, key: K[role] });
      if (allowed.includes(role)) expect([401, 403], `${name} as ${role}: ${JSON.stringify(r.body)}`).not.toContain(r.status);
      else {
        expect(r.status, `${name} as ${role}`).toBe(403);
        expect(r.body.error.code).toBe("forbidden");
      }
    }
  });

  it("the key may also come as x-api-key; expired-by-revocation keys get 401; rotation keeps the principal working", async () => {
    const r = toReply(await (await handlerOf("stats"))(v2Event("GET", "/v1/stats", { headers: { "x-api-key": K.producer } })));
    expect(r.status).toBe(200);
    const old = await createKey(K.admin, "rotating", ["producer"]);
    const fresh = await createKey(K.admin, "rotating", ["producer"]);
    const oldId = old.split("_")[1]!;
    await ok("keysRevoke", { key: K.admin, params: { id: oldId } }, 200);
    await err("stats", { key: old }, 401, "unauthorized");
    await ok("stats", { key: fresh }, 200);
    expect((await ok("keysRevoke", { key: K.admin, params: { id: oldId } }, 200)).body.id).toBe(oldId); // idempotent
    const denied = await ok("auditList", { key: K.admin, query: { action: "stats" } }, 200);
    expect(denied.body.entries[0]).toMatchObject({ keyId: oldId, outcome: "unauthorized", status: 401 });
  });
});

describe("4xx, each with a stable code", () => {
  it("malformed events → 400 bad_request; wrong method → 405", async () => {
    const h = await handlerOf("stats");
    for (const bad of [{}, { rawPath: "/v1/stats" }, { rawPath: 5, requestContext: { http: { method: "GET" } } }, null]) {
      const r = toReply(await h(bad as never));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("bad_request");
    }
    const r = toReply(await h(v2Event("POST", "/v1/stats", { key: K.admin })));
    expect(r.status).toBe(405);
    expect(r.body.error.code).toBe("method_not_allowed");
  });

  it("bodies: 415 wrong content type, 400 invalid JSON, 400 naming the field, 413 too large, 400 body on a body-less route", async () => {
    await err("enqueue", { key: K.producer, rawBody: "{}", contentType: "text/plain" }, 415, "unsupported_media_type");
    await err("enqueue", { key: K.producer, rawBody: "{}", contentType: null }, 415, "unsupported_media_type");
    await err("enqueue", { key: K.producer, rawBody: '{"payload":' }, 400, "invalid_json");
    const v = await err("enqueue", { key: K.producer, body: { payload: 1, priority: "urgent" } }, 400, "validation_error");
    expect(v.body.error.message).toMatch(/^body\.priority: /);
    const w = await err("enqueue", { key: K.producer, body: workOrder("wo-x", { task_type: "party" }) }, 400, "validation_error");
    expect(w.body.error.message).toMatch(/^body\.task_type: /);
    const b = await err("enqueueBatch", { key: K.producer, body: { jobs: [{ payload: 1 }, { payload: 1, timeoutSeconds: -1 }] } }, 400, "validation_error");
    expect(b.body.error.message).toMatch(/^body\.jobs\.1\.timeoutSeconds: /);
    await err("enqueue", { key: K.producer }, 400, "validation_error");
    await err("enqueue", { key: K.producer, body: { payload: "x".repeat(1_200_000) } }, 413, "payload_too_large");
    await err("enqueue", { key: K.producer, body: { payload: 1, queue: "nope" } }, 400, "unknown_queue");
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    await err("enqueue", { key: K.producer, body: { payload: deep } }, 400, "validation_error");
    await err("stats", { key: K.producer, rawBody: "{}" }, 400, "bad_request");
    await err("stats", { key: K.producer, query: { queue: "Bad Name" } }, 400, "validation_error");
    await err("dlqList", { key: K.controller, query: { limit: "1000" } }, 400, "validation_error");
    await err("dlqList", { key: K.controller, query: { since: "yesterday" } }, 400, "validation_error");
    await err("getJob", { key: K.producer, params: { id: "has space" } }, 400, "validation_error");
    await err("keysCreate", { key: K.admin, body: { principal: "p", roles: ["producer"], permissionLevels: ["supervised"] } }, 400, "validation_error");
    // base64-encoded bodies (binary content types) are decoded like API Gateway's
    await ok("enqueue", { key: K.producer, body: { id: "b64-1", payload: { a: 1 } }, base64: true }, 201);
  });

  it("job lists: 400 for an unknown state, queue, bad limit or foreign cursor", async () => {
    await err("listJobs", { key: K.producer, query: { state: "running" } }, 400, "validation_error");
    await err("listJobs", { key: K.producer, query: {} }, 400, "validation_error");
    await err("listJobs", { key: K.producer, query: { state: "pending", queue: "nope" } }, 400, "unknown_queue");
    await err("listJobs", { key: K.producer, query: { state: "pending", limit: "1000" } }, 400, "validation_error");
    await err("listJobs", { key: K.producer, query: { state: "completed", cursor: Buffer.from("1:5-0").toString("base64url") } }, 400, "validation_error");
    await err("listJobs", { key: K.producer, query: { state: "pending", extra: "1" } }, 400, "validation_error");
  });

  it("domain errors: 404 job/request/key not found, 404 not_in_dlq, 409 lease_lost / not_cancellable / already_answered", async () => {
    await err("getJob", { key: K.producer, params: { id: "missing-1" } }, 404, "job_not_found");
    await err("cancelJob", { key: K.producer, params: { id: "missing-1" } }, 404, "job_not_found");
    await err("ack", { key: K.worker, params: { id: "missing-1" }, body: { token: 1 } }, 404, "job_not_found");
    await err("getAnswer", { key: K.worker, params: { requestId: "missing-r" } }, 404, "request_not_found");
    await err("answerRequest", { key: K.controller, params: { requestId: "missing-r" }, body: { response_type: "answer", message: "x", generated_by: "human" } }, 404, "request_not_found");
    await err("keysRevoke", { key: K.admin, params: { id: "zzzz0000" } }, 404, "api_key_not_found");

    await ok("enqueue", { key: K.producer, body: { id: "d-1", payload: {}, priority: "critical" } }, 201);
    await err("dlqShow", { key: K.controller, params: { id: "d-1" } }, 404, "not_in_dlq");
    await err("dlqPurgeOne", { key: K.admin, params: { id: "d-1" } }, 404, "not_in_dlq");

    const c = await claimJob(K.worker);
    expect(c.job.id).toBe("d-1");
    // another worker principal, even with the right token: lease_lost; a stale token: lease_lost
    for (const name of ["heartbeat", "ack", "release"] as const) {
      await err(name, { key: K.worker2, params: { id: "d-1" }, body: { token: c.lease.token } }, 409, "lease_lost");
    }
    await err("fail", { key: K.worker2, params: { id: "d-1" }, body: { token: c.lease.token, error: { message: "x" } } }, 409, "lease_lost");
    await err("askQuestion", { key: K.worker2, params: { id: "d-1" }, body: { token: c.lease.token, request_type: "question", message: "?" } }, 409, "lease_lost");
    await err("ack", { key: K.worker, params: { id: "d-1" }, body: { token: c.lease.token + 1 } }, 409, "lease_lost");
    const q = await ok("askQuestion", { key: K.worker, params: { id: "d-1" }, body: { token: c.lease.token, request_type: "approval", message: "ok to deploy?" } }, 201);
    await err("getAnswer", { key: K.worker2, params: { requestId: q.body.id } }, 404, "request_not_found");
    const answer = { response_type: "approval", message: "yes", generated_by: "automated" };
    await ok("answerRequest", { key: K.controller, params: { requestId: q.body.id }, body: answer }, 201);
    await err("answerRequest", { key: K.controller, params: { requestId: q.body.id }, body: answer }, 409, "already_answered");
    await ok("ack", { key: K.worker, params: { id: "d-1" }, body: { token: c.lease.token } }, 200);
    await err("ack", { key: K.worker, params: { id: "d-1" }, body: { token: c.lease.token } }, 409, "lease_lost");
    await err("cancelJob", { key: K.producer, params: { id: "d-1" } }, 409, "not_cancellable");
    const audit = await ok("auditList", { key: K.admin, query: { jobId: "d-1", principal: "pool-b" } }, 200);
    expect(audit.body.entries.length).toBeGreaterThanOrEqual(5);
    expect(audit.body.entries.every((e: { outcome: string }) => e.outcome === "lease_lost")).toBe(true);
  });
});

describe("recurring schedules", () => {
  it("create 201, replace 200, list, delete; 404 for an unknown one; 400 for a bad cron or queue", async () => {
    const body = { name: "api-nightly", cron: "0 2 * * *", job: { type: "report", payload: { scope: "all" }, priority: "low" } };
    const created = await ok("schedulesPut", { key: K.producer, body }, 201);
    expect(created.body).toMatchObject({ created: true, schedule: { name: "api-nightly", cron: "0 2 * * *", runs: 0, lastRunAt: null } });
    expect((await ok("schedulesPut", { key: K.admin, body: { ...body, cron: "@hourly" } }, 200)).body.created).toBe(false);
    const list = await ok("schedulesList", { key: K.controller }, 200);
    expect(list.body.schedules.map((x: { name: string; cron: string }) => [x.name, x.cron])).toContainEqual(["api-nightly", "@hourly"]);
    await err("schedulesPut", { key: K.producer, body: { ...body, cron: "0 2 * *" } }, 400, "validation_error");
    await err("schedulesPut", { key: K.producer, body: { ...body, job: { payload: {}, queue: "nope" } } }, 400, "unknown_queue");
    await err("schedulesPut", { key: K.producer, body: { ...body, job: { payload: {}, id: "fixed" } } }, 400, "validation_error");
    await err("schedulesPut", { key: K.worker, body }, 403, "forbidden");
    // sensitive fields are sealed once, when saved: in the stored schedule and in every run's job
    const secret = await ok("schedulesPut", { key: K.producer, body: { name: "api-secret", cron: "@daily", job: { payload: { token: "ghp_sched" } }, sensitive: ["payload.token"] } }, 201);
    expect(JSON.stringify(secret.body)).not.toContain("ghp_sched");
    expect(secret.body.schedule.job.payload.token).toMatchObject({ $ws_enc: "v1" });
    const forged = { $ws_enc: "v1", kid: "k1", iv: "AAAAAAAAAAAAAAAA", ct: "AAAA" };
    await err("schedulesPut", { key: K.producer, body: { name: "api-forged", cron: "@daily", job: { payload: { token: forged } } } }, 400, "validation_error");
    await ok("schedulesDelete", { key: K.producer, params: { name: "api-secret" } }, 200);
    expect((await ok("schedulesDelete", { key: K.producer, params: { name: "api-nightly" } }, 200)).body).toEqual({ name: "api-nightly", deleted: true });
    await err("schedulesDelete", { key: K.producer, params: { name: "api-nightly" } }, 404, "schedule_not_found");
  });
});

describe("work order delivery options", () => {
  it("a work order may carry a generic job's delivery options; unknown fields are refused, not dropped", async () => {
    const r = await ok("enqueue", { key: K.producer, body: workOrder("wo-opts", { delayMs: 60_000, callbackUrl: "https://hooks.example.com/wo", retry: { kind: "fixed", intervalsMs: [60_000, 180_000, 600_000] } }) }, 201);
    expect(r.body).toMatchObject({ id: "wo-opts", status: "scheduled" });
    const job = (await ok("getJob", { key: K.admin, params: { id: "wo-opts" } }, 200)).body;
    expect(job.callbackUrl).toBe("https://hooks.example.com/wo");
    // the options are not part of the message the worker gets
    expect(Object.keys(job.payload)).not.toContain("callbackUrl");
    expect(Object.keys(job.payload)).not.toContain("delayMs");
    expect(job.payload).toMatchObject({ work_order_id: "wo-opts", title: "Fix login" });

    const dep = await ok("enqueue", { key: K.producer, body: workOrder("wo-dep", { dependsOn: ["wo-opts"] }) }, 201);
    expect(dep.body.status).toBe("deferred");

    const typo = await err("enqueue", { key: K.producer, body: workOrder("wo-typo", { callback_url: "https://hooks.example.com/x" }) }, 400, "validation_error");
    expect(typo.body.error.message).toMatch(/callback_url/);
    await err("getJob", { key: K.admin, params: { id: "wo-typo" } }, 404, "job_not_found");
  });
});

describe("permission levels and sensitive fields", () => {
  it("a worker claims only levels its key carries; asking for more is 403", async () => {
    await ok("enqueue", { key: K.producer, body: { id: "sup-1", payload: {}, permissionLevel: "supervised", queue: "low_priority" } }, 201);
    expect((await ok("claim", { key: K.worker, body: { queues: ["low_priority"] } }, 200)).body.status).toBe("empty");
    await err("claim", { key: K.worker, body: { permissionLevels: ["supervised"] } }, 403, "forbidden");
    const c = await claimJob(K.supervisor, { queues: ["low_priority"] });
    expect(c.job.id).toBe("sup-1");
    await ok("ack", { key: K.supervisor, params: { id: "sup-1" }, body: { token: c.lease.token } }, 200);
  });

  it("sensitive fields are sealed in Redis, decrypted for the lease holder and admins only; forged envelopes are refused", async () => {
    const secret = "tok-" + "9".repeat(20);
    await ok("enqueue", { key: K.producer, body: workOrder("wo-s", { priority: "low", payload: { api_token: secret, repo: "r" }, metadata: { db: { password: "pw-123456" } }, sensitive: ["payload.api_token", "metadata.db.password"] }) }, 201);
    const stored = await rawRedis().hget(`${env.prefix}job:wo-s`, "payload");
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain("pw-123456");
    expect(stored).toContain("$ws_enc");
    const asProducer = await ok("getJob", { key: K.producer, params: { id: "wo-s" } }, 200);
    expect(asProducer.body.payload.payload.api_token.$ws_enc).toBe("v1");
    expect(asProducer.body.payload.payload.api_token.kid).toBe("k2");
    const asAdmin = await ok("getJob", { key: K.admin, params: { id: "wo-s" } }, 200);
    expect(asAdmin.body.payload.payload.api_token).toBe(secret);
    expect(asAdmin.body.payload.metadata.db.password).toBe("pw-123456");
    const c = await claimJob(K.worker, { queues: ["low_priority"] });
    expect(c.job.payload.payload.api_token).toBe(secret);

    // a forged envelope, or a path that is not there, or outside payload: 400
    const forged = { $ws_enc: "v1", kid: "k2", iv: "AAAAAAAAAAAAAAAA", ct: "AAAAAAAAAAAAAAAAAAAAAAAA" };
    await err("enqueue", { key: K.producer, body: { payload: { x: forged } } }, 400, "validation_error");
    await err("enqueue", { key: K.producer, body: { payload: { a: 1 }, sensitive: ["payload.b"] } }, 400, "validation_error");
    await err("enqueue", { key: K.producer, body: { payload: { a: 1 }, type: "t", sensitive: ["type"] } }, 400, "validation_error");

    // DLQ inspect: sealed for controllers, open for admins; a replay with an edited payload re-seals
    await ok("fail", { key: K.worker, params: { id: "wo-s" }, body: { token: c.lease.token, error: { message: "nope" }, retryable: false } }, 200);
    expect((await ok("dlqShow", { key: K.controller, params: { id: "wo-s" } }, 200)).body.payload.payload.api_token.$ws_enc).toBe("v1");
    const shown = await ok("dlqShow", { key: K.admin, params: { id: "wo-s" } }, 200);
    expect(shown.body.payload.payload.api_token).toBe(secret);
    const edited = { ...shown.body.payload, payload: { ...shown.body.payload.payload, api_token: "new-token-value" } };
    await ok("dlqReplay", { key: K.admin, body: { ids: ["wo-s"], payload: edited } }, 200);
    const raw = await rawRedis().hget(`${env.prefix}job:wo-s`, "payload");
    expect(raw).not.toContain("new-token-value");
    expect(raw).not.toContain("pw-123456");
    const again = await claimJob(K.worker, { queues: ["low_priority"] });
    expect(again.job.payload.payload.api_token).toBe("new-token-value");
    expect(again.job.payload.metadata.db.password).toBe("pw-123456");
  });
});

describe("workers: registry stats, suspend and resume (admin)", () => {
  it("stats list registered workers; suspend/resume change their state; unknown workers are 404", async () => {
    const registry = new WorkerRegistry({ redis: openPort("upstash"), keys: env.prefix });
    await registry.beat({
      workerId: "pool-a:proc-9", state: "idle", queues: ["default"], permissionLevels: ["autonomous"], concurrency: 2,
      activeJobs: 0, jobsProcessed: 5, jobsFailed: 1, startedAt: Date.now() - 60_000,
    });
    const s = await ok("stats", { key: K.controller }, 200);
    expect(s.body.workers).toMatchObject({ total: 1, idle: 1, busy: 0, suspended: 0 });
    expect(s.body.workers.workers[0]).toMatchObject({ workerId: "pool-a:proc-9", jobs_processed: 5, jobs_failed: 1 });
    await ok("workerSuspend", { key: K.admin, params: { id: "pool-a:proc-9" } }, 200);
    expect((await ok("stats", { key: K.admin }, 200)).body.workers.suspended).toBe(1);
    await ok("workerResume", { key: K.admin, params: { id: "pool-a:proc-9" } }, 200);
    expect((await ok("stats", { key: K.admin }, 200)).body.workers.suspended).toBe(0);
    await err("workerSuspend", { key: K.admin, params: { id: "nobody" } }, 404, "worker_not_found");
  });
});
