/**
 * Notifications through the real Lambda handlers, with QStash's API stood in by a local HTTP
 * server: an ack over HTTP sends the job's callback within the request (from the callback outbox),
 * and a push queue's scheduled job is announced for its due time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRuntime } from "../../functions/_lib/runtime.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";
import { call, configureApiEnv, createKey } from "./support.ts";

let qstash: HttpStub;
let producer = "";
let worker = "";
const HOOK = "https://hooks.example.com/api-notify";
const PUSH = "https://worker.example.com/push";

beforeAll(async () => {
  qstash = await startHttpStub(() => ({ status: 201, body: JSON.stringify({ messageId: "m" }) }));
  const env = configureApiEnv();
  Object.assign(process.env, {
    QSTASH_TOKEN: "test-token",
    QSTASH_URL: qstash.url,
    WORKSTREAM_PUSH_QUEUES: JSON.stringify({ low_priority: { url: PUSH, parallelism: 1 } }),
  });
  await closeRuntime(); // the next request builds the runtime from this environment
  producer = await createKey(env.adminKey, "producer", ["producer"]);
  worker = await createKey(env.adminKey, "http-worker", ["worker"]);
});
afterAll(async () => {
  await closeRuntime();
  for (const k of ["QSTASH_TOKEN", "QSTASH_URL", "WORKSTREAM_PUSH_QUEUES"]) delete process.env[k];
  await qstash.close();
});

const published = (dest: string) => qstash.requests.filter((r) => r.path === `/v2/publish/${dest}`);

describe("notifications over the HTTP API", () => {
  it("an ack sends the job's completed callback within the request, once", async () => {
    expect((await call("enqueue", { key: producer, body: { id: "cb-api", payload: {}, callbackUrl: `${HOOK}/cb-api` } })).status).toBe(201);
    const c = await call("claim", { key: worker, body: { workerId: "w1", queues: ["default"] } });
    expect(c.body.status).toBe("claimed");
    const a = await call("ack", { key: worker, params: { id: "cb-api" }, body: { token: c.body.lease.token, result: { ok: 1 } } });
    expect(a.status).toBe(200);
    const sent = published(`${HOOK}/cb-api`);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers["upstash-deduplication-id"]).toBe(`cb-api:completed:${Date.parse(JSON.parse(sent[0]!.body).finishedAt)}`);
    expect(JSON.parse(sent[0]!.body)).toMatchObject({ jobId: "cb-api", outcome: "completed", result: { ok: 1 }, attempts: 1 });
  });

  it("a failure classified as permanent dead-letters at once and sends `failed`", async () => {
    await call("enqueue", { key: producer, body: { id: "cb-fail", payload: {}, callbackUrl: `${HOOK}/cb-fail` } });
    const c = await call("claim", { key: worker, body: { workerId: "w1", queues: ["default"] } });
    const f = await call("fail", { key: worker, params: { id: "cb-fail" }, body: { token: c.body.lease.token, error: { name: "ValueError", message: "bad input" } } });
    expect(f.body.outcome).toBe("dead_lettered");
    expect(published(`${HOOK}/cb-fail`).map((r) => JSON.parse(r.body))).toMatchObject([{ jobId: "cb-fail", outcome: "failed", error: { name: "ValueError" } }]);
  });

  it("a push queue's delayed job is announced not before its due time", async () => {
    const before = Date.now();
    expect((await call("enqueue", { key: producer, body: { id: "push-later", queue: "low_priority", payload: {}, delayMs: 120_000 } })).body.status).toBe("scheduled");
    const [push] = published(PUSH);
    expect(JSON.parse(push!.body)).toEqual({ jobId: "push-later", queue: "low_priority", reason: "enqueued" });
    const notBefore = Number(push!.headers["upstash-not-before"]);
    expect(notBefore).toBeGreaterThanOrEqual(Math.floor((before + 120_000) / 1000));
    expect(notBefore).toBeLessThanOrEqual(Math.ceil((Date.now() + 120_000) / 1000));
  });
});
