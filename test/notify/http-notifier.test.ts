import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, httpNotifier, notifyConfigFromEnv } from "../../packages/core/src/index.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub();
});
afterAll(() => stub.close());

const noSleep = async () => undefined;

describe("plain HTTP notifier (local)", () => {
  it("POSTs JSON, retries a 5xx a bounded number of times, and delivers a deduplication id once", async () => {
    const from = stub.requests.length;
    stub.respond((_r, i) => ({ status: i === from ? 503 : 200 }));
    const notifier = httpNotifier({ attempts: 3, sleep: noSleep });
    const d = { url: `${stub.url}/cb`, body: { jobId: "j", outcome: "completed" }, deduplicationId: "j:completed" };
    expect(await notifier.deliver(d)).toEqual({ ok: true, messageId: null, deduplicated: false });
    expect(await notifier.deliver(d)).toEqual({ ok: true, messageId: null, deduplicated: true });
    const mine = stub.requests.slice(from);
    expect(mine).toHaveLength(2);
    expect(mine[1]).toMatchObject({ method: "POST", path: "/cb", headers: { "content-type": "application/json", "workstream-delivery-id": "j:completed" } });
    expect(JSON.parse(mine[1]!.body)).toEqual({ jobId: "j", outcome: "completed" });
  });

  it("gives up after its attempts, does not retry a 4xx, and never throws", async () => {
    const notifier = httpNotifier({ attempts: 3, sleep: noSleep });
    let from = stub.requests.length;
    stub.respond(() => ({ status: 500 }));
    expect(await notifier.deliver({ url: `${stub.url}/down`, body: {}, deduplicationId: "a" })).toMatchObject({ ok: false, status: 500 });
    expect(stub.requests.length - from).toBe(3);
    from = stub.requests.length;
    stub.respond(() => ({ status: 404 }));
    expect(await notifier.deliver({ url: `${stub.url}/gone`, body: {}, deduplicationId: "b" })).toMatchObject({ ok: false, status: 404 });
    expect(stub.requests.length - from).toBe(1);
    expect(await notifier.deliver({ url: "http://127.0.0.1:1/closed", body: {}, deduplicationId: "c" })).toMatchObject({ ok: false, status: null });
    stub.respond(() => ({ status: 200 }));
    // a failed id may be delivered again
    expect(await notifier.deliver({ url: `${stub.url}/down`, body: {}, deduplicationId: "a" })).toMatchObject({ ok: true, deduplicated: false });
  });
});

describe("notification configuration", () => {
  it("defaults to plain HTTP without a QStash token, QStash with one", () => {
    expect(notifyConfigFromEnv({})).toMatchObject({ mode: "http", qstash: null, dlqWebhookUrl: null, pushQueues: {}, retries: 3 });
    expect(notifyConfigFromEnv({ QSTASH_TOKEN: "t", WORKSTREAM_PUSH_QUEUES: '{"default":{"url":"https://w.example.com/push","parallelism":4}}' })).toMatchObject({
      mode: "qstash",
      qstash: { token: "t", baseUrl: null },
      pushQueues: { default: { url: "https://w.example.com/push", parallelism: 4 } },
    });
  });

  it("names the variable at fault", () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ WORKSTREAM_NOTIFY_MODE: "qstash" }, "QSTASH_TOKEN"],
      [{ WORKSTREAM_NOTIFY_MODE: "smoke" }, "WORKSTREAM_NOTIFY_MODE"],
      [{ WORKSTREAM_DLQ_WEBHOOK_URL: "ftp://x" }, "WORKSTREAM_DLQ_WEBHOOK_URL"],
      [{ WORKSTREAM_PUSH_QUEUES: "{nope" }, "WORKSTREAM_PUSH_QUEUES"],
      [{ WORKSTREAM_PUSH_QUEUES: '{"default":{"parallelism":0}}' }, "WORKSTREAM_PUSH_QUEUES"],
      [{ QSTASH_CURRENT_SIGNING_KEY: "k" }, "QSTASH_NEXT_SIGNING_KEY"],
      [{ WORKSTREAM_NOTIFY_RETRIES: "-1" }, "WORKSTREAM_NOTIFY_RETRIES"],
    ];
    for (const [env, variable] of bad) {
      let err: unknown;
      try {
        notifyConfigFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err, variable).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message, variable).toContain(variable);
    }
  });
});
