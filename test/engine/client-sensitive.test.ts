/**
 * The SDK producer path (`Queue`) encrypts the payload fields a job lists as sensitive, as the HTTP
 * API does: sealed at rest, opened by `status()` and `dlqGet()` with the keyring, refused without one
 * (never stored in plain text), and kept sealed through a DLQ replay with an edited payload. Over
 * both transports.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Queue, parseKeyring, type Keyring } from "../../packages/core/src/index.ts";
import { makeEngine, rawRedis, TRANSPORTS } from "../support/engines.ts";

const ring = (): Keyring => parseKeyring(`k1:${randomBytes(32).toString("base64")}`, "TEST_KEYS");

describe.each(TRANSPORTS)("Queue and sensitive fields over %s", (transport) => {
  it("seals listed fields before they reach Redis and opens them in status() with the keyring", async () => {
    const t = makeEngine(transport);
    const keyring = ring();
    const queue = new Queue({ engine: t.engine, redis: t.port, keyring });
    await queue.enqueue({ id: "s1", payload: { repo: "acme/app", token: "ghp_secret" }, sensitive: ["payload.token"] });
    const stored = await rawRedis().hget(t.engine.keys.job("s1"), "payload");
    expect(stored).not.toContain("ghp_secret");
    expect(JSON.parse(stored!)).toMatchObject({ repo: "acme/app", token: { $ws_enc: "v1", kid: "k1" } });
    expect((await queue.status("s1")).payload).toEqual({ repo: "acme/app", token: "ghp_secret" });
    // without the keyring, status shows the envelope, never the secret
    const blind = new Queue({ engine: t.engine, redis: t.port });
    expect(JSON.stringify((await blind.status("s1")).payload)).not.toContain("ghp_secret");
  });

  it("work orders seal payload and metadata paths; batches name the item at fault", async () => {
    const t = makeEngine(transport);
    const queue = new Queue({ engine: t.engine, redis: t.port, keyring: ring() });
    await queue.enqueueWorkOrder(
      {
        id: "m1", task_id: "t1", work_order_id: "wo-s", task_type: "bugfix", permission_level: "autonomous", priority: "normal",
        repository_url: "https://github.com/acme/app", branch_name: "fix", title: "Fix", description: "…", created_at: "2026-11-23T12:00:00Z",
        payload: { pat: "ghp_1" }, metadata: { note: "n", cookie: "c_2" },
      },
      { sensitive: ["payload.pat", "metadata.cookie"] },
    );
    const stored = (await rawRedis().hget(t.engine.keys.job("wo-s"), "payload"))!;
    expect(stored).not.toContain("ghp_1");
    expect(stored).not.toContain("c_2");
    expect(((await queue.status("wo-s")).payload as { metadata: unknown }).metadata).toEqual({ note: "n", cookie: "c_2" });
    await expect(queue.enqueueBatch([{ payload: {} }, { payload: { a: 1 }, sensitive: ["nope.a"] }])).rejects.toMatchObject({ code: "validation_error", message: expect.stringMatching(/^jobs\[1\]/) });
  });

  it("DLQ: dlqGet opens sealed fields; an edited payload is replayed sealed where it was, or at `sensitive`", async () => {
    const t = makeEngine(transport);
    const keyring = ring();
    const queue = new Queue({ engine: t.engine, redis: t.port, keyring });
    // each on its own queue, so a replayed job is not claimed in the next one's place
    const deadLetter = async (id: string, queueName: string) => {
      await queue.enqueue({ id, queue: queueName, payload: { repo: "acme/app", token: "ghp_old" }, sensitive: ["payload.token"], maxRetries: 0 });
      const c = await t.engine.claim({ workerId: "w", queues: [queueName] });
      if (c.status !== "claimed") throw new Error("nothing claimed");
      await t.engine.fail(id, c.lease.token, { error: { name: "ValueError", message: "bad token" } });
    };
    const storedPayload = async (id: string) => (await rawRedis().hget(t.engine.keys.job(id), "payload"))!;

    await deadLetter("d1", "default");
    const shown = await queue.dlqGet("d1");
    expect(shown.payload).toEqual({ repo: "acme/app", token: "ghp_old" });
    // read decrypted, edited, replayed: the token goes back sealed
    expect(await queue.dlqReplay(["d1"], { payload: { ...(shown.payload as object), token: "ghp_new" } })).toEqual([{ id: "d1", outcome: "replayed" }]);
    expect(await storedPayload("d1")).not.toContain("ghp_new");
    expect((await queue.status("d1")).payload).toEqual({ repo: "acme/app", token: "ghp_new" });

    // explicit paths replace the default
    await deadLetter("d2", "high_priority");
    await queue.dlqReplay(["d2"], { payload: { repo: "acme/secret-repo", token: "ghp_2" }, sensitive: ["payload.repo"] });
    const d2 = await storedPayload("d2");
    expect(d2).not.toContain("secret-repo");
    expect(d2).toContain("ghp_2");

    // without the keyring the edit is refused and the job stays dead-lettered: never stored in clear
    await deadLetter("d3", "low_priority");
    const blind = new Queue({ engine: t.engine, redis: t.port });
    await expect(blind.dlqReplay(["d3"], { payload: { repo: "acme/app", token: "ghp_3" } })).rejects.toMatchObject({ code: "encryption_unavailable" });
    expect((await t.engine.getJob("d3")).status).toBe("failed");
    expect(await storedPayload("d3")).not.toContain("ghp_3");
    await expect(queue.dlqReplay(["d3", "d1"], { payload: {} })).rejects.toMatchObject({ code: "validation_error" });
    await expect(queue.dlqReplay(["d3"], { sensitive: ["payload.token"] })).rejects.toMatchObject({ code: "validation_error" });
  });

  it("without a keyring, a job listing sensitive fields is refused and nothing is written", async () => {
    const t = makeEngine(transport);
    const queue = new Queue({ engine: t.engine, redis: t.port });
    await expect(queue.enqueue({ id: "plain", payload: { token: "x" }, sensitive: ["payload.token"] })).rejects.toMatchObject({ code: "encryption_unavailable" });
    expect(await rawRedis().exists(t.engine.keys.job("plain"))).toBe(0);
  });
});
