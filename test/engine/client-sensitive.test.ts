/**
 * The SDK producer path (`Queue`) encrypts the payload fields a job lists as sensitive, as the HTTP
 * API does: sealed at rest, opened by `status()` with the keyring, refused without one (never
 * stored in plain text). Over both transports.
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

  it("without a keyring, a job listing sensitive fields is refused and nothing is written", async () => {
    const t = makeEngine(transport);
    const queue = new Queue({ engine: t.engine, redis: t.port });
    await expect(queue.enqueue({ id: "plain", payload: { token: "x" }, sensitive: ["payload.token"] })).rejects.toMatchObject({ code: "encryption_unavailable" });
    expect(await rawRedis().exists(t.engine.keys.job("plain"))).toBe(0);
  });
});
