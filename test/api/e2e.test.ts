/**
 * End to end over real HTTP: the local stack (private redis-server, Upstash REST stand-in, the
 * HTTP server serving the Lambda handlers through @upstash/redis) started in-process as
 * `npm run dev` starts it, driven with fetch like any HTTP client in any language.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevStack, type DevStack } from "../../packages/local/src/dev-stack.ts";

let stack: DevStack;
const keys: Record<string, string> = {};

async function api(method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  stack = await startDevStack({ tick: false, env: { WORKSTREAM_KEY_PREFIX: "e2e:" } });
  for (const [principal, roles] of [["producer", ["producer"]], ["worker", ["worker"]], ["controller", ["controller"]]] as const) {
    const r = await api("POST", "/v1/keys", stack.adminKey, { principal, roles, ...(principal === "worker" && { permissionLevels: ["autonomous", "supervised"] }) });
    expect(r.status).toBe(201);
    keys[principal] = r.body.key;
  }
});

afterAll(async () => {
  await stack?.stop();
});

describe("local stack over HTTP", () => {
  it("enqueue → claim → ask → answer (the worker long-polls) → ack", async () => {
    const wo = {
      id: "m-1", task_id: "t-1", work_order_id: "wo-e2e-1", task_type: "feature", permission_level: "supervised", priority: "normal",
      repository_url: "https://github.com/acme/app", branch_name: "feat/x", title: "Add X", description: "…", created_at: new Date().toISOString(),
      payload: { token: "secret-token" }, sensitive: ["payload.token"],
    };
    expect((await api("POST", "/v1/jobs", keys.producer!, wo)).status).toBe(201);
    const claim = await api("POST", "/v1/claim", keys.worker!, { workerId: "w1", waitMs: 1000 });
    expect(claim.body.status).toBe("claimed");
    expect(claim.body.job.payload.payload.token).toBe("secret-token");
    const token = claim.body.lease.token as number;
    const ask = await api("POST", "/v1/jobs/wo-e2e-1/requests", keys.worker!, { token, request_type: "approval", message: "Deploy?", context: { env: "staging" } });
    expect(ask.status).toBe(201);
    // the worker starts waiting before the controller answers
    const waiting = api("GET", `/v1/requests/${ask.body.id}/response?waitMs=15000`, keys.worker!);
    const open = await api("GET", "/v1/requests", keys.controller!);
    expect(open.body.requests.map((r: { id: string }) => r.id)).toContain(ask.body.id);
    const answer = await api("POST", `/v1/requests/${ask.body.id}/response`, keys.controller!, { response_type: "approval", message: "Go", generated_by: "human", responder_id: "alice" });
    expect(answer.status).toBe(201);
    const got = await waiting;
    expect(got.body).toMatchObject({ status: "answered", response: { message: "Go", responder_id: "alice", generated_by: "human" } });
    expect((await api("POST", "/v1/jobs/wo-e2e-1/ack", keys.worker!, { token, result: { merged: true } })).status).toBe(200);
    const job = await api("GET", "/v1/jobs/wo-e2e-1", keys.producer!);
    expect(job.body).toMatchObject({ status: "completed", result: { merged: true } });
  });

  it("failure → retry → DLQ → replay → completed", async () => {
    expect((await api("POST", "/v1/jobs", keys.producer!, { id: "flaky-1", type: "flaky", payload: { n: 1 }, maxRetries: 1 })).status).toBe(201);
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const c = await api("POST", "/v1/claim", keys.worker!, { workerId: "w2", waitMs: 2000 });
      expect(c.body.status).toBe("claimed");
      expect(c.body.job).toMatchObject({ id: "flaky-1", attempt });
      const f = await api("POST", "/v1/jobs/flaky-1/fail", keys.worker!, { token: c.body.lease.token, error: { name: "Timeout", message: "upstream timed out" }, retryAfterMs: 0 });
      outcomes.push(f.body.outcome);
    }
    expect(outcomes).toEqual(["pending", "dead_lettered"]);
    const dlq = await api("GET", "/v1/dlq?error=timed%20out", keys.controller!);
    expect(dlq.body.entries).toMatchObject([{ id: "flaky-1", reason: "max_attempts", attempts: 2 }]);
    const replay = await api("POST", "/v1/dlq/replay", keys.controller!, { ids: ["flaky-1"], payload: { n: 2 } });
    expect(replay.body.results).toEqual([{ id: "flaky-1", outcome: "replayed" }]);
    expect((await api("POST", "/v1/dlq/replay", keys.controller!, { ids: ["flaky-1"] })).body.results[0].outcome).toBe("not_in_dlq");
    const c = await api("POST", "/v1/claim", keys.worker!, { workerId: "w2", waitMs: 2000 });
    expect(c.body.job).toMatchObject({ id: "flaky-1", payload: { n: 2 } });
    expect((await api("POST", "/v1/jobs/flaky-1/ack", keys.worker!, { token: c.body.lease.token, result: "ok" })).status).toBe(200);
    expect((await api("GET", "/v1/jobs/flaky-1", keys.producer!)).body.status).toBe("completed");
    const audit = await api("GET", "/v1/audit?jobId=flaky-1", stack.adminKey);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(["ack", "claim", "dlqReplay", "dlqReplay", "fail", "claim", "fail", "claim", "enqueue"]);
  });

  it("speaks HTTP errors like API Gateway + our handlers: 401, 404, 405, 415", async () => {
    expect((await api("GET", "/v1/stats", null)).status).toBe(401);
    expect((await api("GET", "/v1/nowhere", keys.producer!)).body.error.code).toBe("not_found");
    const m = await fetch(`${stack.apiUrl}/v1/jobs`, { method: "PUT", headers: { authorization: `Bearer ${keys.producer}` } });
    expect(m.status).toBe(405);
    expect(m.headers.get("allow")).toBe("POST, GET"); // enqueue and listJobs
    const t = await fetch(`${stack.apiUrl}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${keys.producer}`, "content-type": "text/plain" }, body: "{}" });
    expect(t.status).toBe(415);
  });
});
