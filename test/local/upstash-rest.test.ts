import { randomUUID } from "node:crypto";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startUpstashRest, type UpstashRestHandle } from "../../packages/local/src/index.ts";

// A private stand-in (in front of the run's shared redis-server) so stats are exact for this file;
// the globally provided one is checked separately.
let rest: UpstashRestHandle;
let redis: UpstashRedis; // auto-pipelining on (the client's default)
let direct: UpstashRedis; // auto-pipelining off: one HTTP request per command
let tcp: IORedis;

beforeAll(async () => {
  rest = await startUpstashRest({ redisUrl: inject("redisUrl"), token: `tok-${randomUUID()}` });
  redis = new UpstashRedis({ url: rest.url, token: rest.token, automaticDeserialization: false });
  direct = new UpstashRedis({ url: rest.url, token: rest.token, automaticDeserialization: false, enableAutoPipelining: false });
  tcp = new IORedis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  tcp?.disconnect();
  await rest?.close();
});

const prefix = () => `test:upstash-rest:${randomUUID()}:`;

/** Raw HTTP, for what the client never sends. */
async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${rest.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${rest.token}`, ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

describe("single commands through @upstash/redis", () => {
  it("reads back exactly the string that was written", async () => {
    const p = prefix();
    const values = ["123", "", "OK", "null", '{"a":1}', "héllo wörld ✓ 🚀", "\u0000\u0001\u007f\u00ff", " spaced  "];
    for (const [i, value] of values.entries()) {
      for (const client of [redis, direct]) {
        await client.set(`${p}${i}`, value);
        expect(await client.get(`${p}${i}`)).toBe(value);
      }
    }
    expect(await redis.set(`${p}ü-key-✓`, "v")).toBe("OK");
    expect(await redis.get(`${p}ü-key-✓`)).toBe("v");
    expect(await redis.get(`${p}missing`)).toBeNull();
    expect(await redis.incr(`${p}n`)).toBe(1);
  });

  it("encodes raw bytes as base64, keeps integers, nil and a top-level OK", async () => {
    const p = prefix();
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x4f, 0x4b]);
    await tcp.set(`${p}bin`, bytes);
    const b64 = { "upstash-encoding": "base64" };
    expect((await post("/", JSON.stringify(["GET", `${p}bin`]), b64)).json).toEqual({ result: bytes.toString("base64") });
    expect((await post("/", JSON.stringify(["SET", `${p}s`, "OK"]), b64)).json).toEqual({ result: "OK" });
    expect((await post("/", JSON.stringify(["GET", `${p}s`]), b64)).json).toEqual({ result: "OK" });
    expect((await post("/", JSON.stringify(["INCRBY", `${p}n`, 5]), b64)).json).toEqual({ result: 5 });
    expect((await post("/", JSON.stringify(["GET", `${p}none`]), b64)).json).toEqual({ result: null });
    // Nested strings are always base64, even "OK".
    await tcp.rpush(`${p}l`, "OK", "x");
    expect((await post("/", JSON.stringify(["LRANGE", `${p}l`, 0, -1]), b64)).json).toEqual({ result: ["T0s=", "eA=="] });
    // Without the header, strings travel as UTF-8.
    expect((await post("/", JSON.stringify(["LRANGE", `${p}l`, 0, -1]))).json).toEqual({ result: ["OK", "x"] });
  });

  it("keeps RESP2 shapes (HGETALL is a flat array on the wire)", async () => {
    const p = prefix();
    await redis.hset(`${p}h`, { b: "2", a: "1" });
    const raw = await post("/", JSON.stringify(["HGETALL", `${p}h`]));
    expect(raw.json.result).toEqual(["b", "2", "a", "1"]);
    // With automaticDeserialization off the client hands the wire shape through.
    expect(await redis.hgetall(`${p}h`)).toEqual(["b", "2", "a", "1"]);
  });

  it("returns a Redis error as 400 {error}", async () => {
    const p = prefix();
    await redis.set(`${p}s`, "not a number");
    await expect(redis.incr(`${p}s`)).rejects.toThrow(/not an integer/);
    const raw = await post("/", JSON.stringify(["INCR", `${p}s`]));
    expect(raw.status).toBe(400);
    expect(raw.json.error).toMatch(/ERR value is not an integer/);
  });

  it("sends an incrementing upstash-sync-token", async () => {
    const first = Number((await post("/", '["PING"]')).headers.get("upstash-sync-token"));
    const second = Number((await post("/", '["PING"]')).headers.get("upstash-sync-token"));
    expect(second).toBeGreaterThan(first);
  });
});

describe("pipeline and multi-exec", () => {
  it("runs a pipeline and reports per-command errors", async () => {
    const p = prefix();
    expect(await redis.pipeline().set(`${p}a`, "1").incr(`${p}a`).get(`${p}a`).exec()).toEqual(["OK", 2, "2"]);
    const mixed = await redis.pipeline().set(`${p}b`, "x").incr(`${p}b`).get(`${p}b`).exec({ keepErrors: true });
    expect(mixed[0]).toEqual({ result: "OK", error: undefined });
    expect(mixed[1]?.error).toMatch(/not an integer/);
    expect(mixed[2]).toEqual({ result: "x", error: undefined });
    // The client has no blocking methods; a refused command sent raw fails alone.
    const raw = await post("/pipeline", JSON.stringify([["SET", `${p}c`, "y"], ["BLPOP", `${p}l`, 1], ["GET", `${p}c`]]));
    expect(raw.status).toBe(200);
    expect(raw.json).toEqual([{ result: "OK" }, { error: expect.stringMatching(/BLPOP/) }, { result: "y" }]);
  });

  it("runs multi-exec as one transaction", async () => {
    const p = prefix();
    expect(await redis.multi().set(`${p}a`, "v").incr(`${p}n`).get(`${p}a`).exec()).toEqual(["OK", 1, "v"]);
    // A runtime error fails only its command (Redis semantics); the rest is applied.
    const partial = await redis.multi().set(`${p}b`, "x").incr(`${p}b`).exec({ keepErrors: true });
    expect(partial[0]?.result).toBe("OK");
    expect(partial[1]?.error).toMatch(/not an integer/);
  });

  it("discards the whole transaction when a command is refused", async () => {
    const p = prefix();
    const refused = await post("/multi-exec", JSON.stringify([["SET", `${p}a`, "v"], ["BLPOP", `${p}l`, 1]]));
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/blocking command BLPOP/);
    // Rejected by Redis while queueing (wrong arity): EXECABORT, nothing applied.
    const aborted = await post("/multi-exec", JSON.stringify([["SET", `${p}b`, "v"], ["GET"]]));
    expect(aborted.status).toBe(400);
    expect(aborted.json.error).toMatch(/EXECABORT/);
    expect(await tcp.exists(`${p}a`, `${p}b`)).toBe(0);
  });
});

describe("stream commands", () => {
  it("supports the consumer-group family", async () => {
    const s = `${prefix()}stream`;
    expect(await redis.xgroup(s, { type: "CREATE", group: "g", id: "$", options: { MKSTREAM: true } })).toBe("OK");
    const id1 = await redis.xadd(s, "*", { job: "1" });
    const id2 = await redis.xadd(s, "*", { job: "2" });
    expect(id1).toMatch(/^\d+-\d+$/);

    const read = await redis.xreadgroup("g", "c1", s, ">", { count: 10 });
    expect(read).toEqual([[s, [[id1, ["job", "1"]], [id2, ["job", "2"]]]]]);
    // A consumer literally named "block" is not the BLOCK option.
    expect(await redis.xreadgroup("g", "block", s, ">", { count: 1 })).toBeNull();

    expect(await redis.xpending(s, "g", "-", "+", 10)).toEqual([
      [id1, "c1", expect.any(Number), 1],
      [id2, "c1", expect.any(Number), 1],
    ]);
    expect(await redis.xack(s, "g", id1)).toBe(1);

    await redis.xdel(s, id2);
    const id3 = await redis.xadd(s, "*", { job: "3" });
    await redis.xreadgroup("g", "c1", s, ">");
    // Redis 7.0: XAUTOCLAIM skips deleted entries and lists their ids third.
    const claimed = await redis.xautoclaim(s, "g", "c2", 0, "0-0", { count: 10 });
    expect(claimed).toEqual(["0-0", [[id3, ["job", "3"]]], [id2]]);
  });
});

describe("scripts", () => {
  it("createScript().exec falls back from EVALSHA to EVAL once, then uses EVALSHA", async () => {
    const p = prefix();
    // Unique source, so its SHA is surely not cached yet on the shared server.
    const script = redis.createScript<unknown>(
      `-- ${p}\nredis.call('SET', KEYS[1], ARGV[1])\nreturn {redis.call('GET', KEYS[1]), 7, {ARGV[1]}}`,
    );
    const before = rest.stats.commands;
    expect(await script.exec([`${p}k`], ["val"])).toEqual(["val", 7, ["val"]]);
    expect(rest.stats.commands - before).toBe(2); // EVALSHA (NOSCRIPT) + EVAL
    expect(await script.exec([`${p}k`], ["again"])).toEqual(["again", 7, ["again"]]);
    expect(rest.stats.commands - before).toBe(3); // EVALSHA only
  });
});

describe("refusals", () => {
  it("rejects blocking commands, naming them", async () => {
    const p = prefix();
    await expect(redis.exec(["BLPOP", `${p}l`, 1])).rejects.toThrow(/blocking command BLPOP is not supported/);
    await expect(direct.exec(["BZPOPMIN", `${p}z`, 1])).rejects.toThrow(/BZPOPMIN/);
    await expect(direct.exec(["SUBSCRIBE", `${p}chan`])).rejects.toThrow(/SUBSCRIBE is not supported/);
  });

  it("rejects XREADGROUP and XREAD with BLOCK", async () => {
    const s = `${prefix()}stream`;
    await redis.xgroup(s, { type: "CREATE", group: "g", id: "$", options: { MKSTREAM: true } });
    await expect(redis.xreadgroup("g", "c", s, ">", { blockMS: 100 })).rejects.toThrow(/XREADGROUP with BLOCK/);
    await expect(redis.xread(s, "0", { blockMS: 100 })).rejects.toThrow(/XREAD with BLOCK/);
  });

  it("rejects a wrong token", async () => {
    const wrong = new UpstashRedis({ url: rest.url, token: "wrong", automaticDeserialization: false });
    await expect(wrong.get("x")).rejects.toThrow(/Unauthorized/);
    const res = await fetch(`${rest.url}/`, { method: "POST", body: '["PING"]' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("answers malformed requests with 4xx and a clear error, and keeps serving", async () => {
    const cases: [path: string, body: string, pattern: RegExp][] = [
      ["/", "{not json", /failed to parse request body as JSON/],
      ["/", '{"a":1}', /expected a non-empty JSON array/],
      ["/", "[]", /expected a non-empty JSON array/],
      ["/", '["SET", "k", {"x": 1}]', /invalid argument 2 of SET/],
      ["/pipeline", '["PING"]', /invalid command/],
      ["/pipeline", "[]", /non-empty JSON array of commands/],
      ["/multi-exec", "null", /non-empty JSON array of commands/],
    ];
    for (const [path, body, pattern] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${body}`).toBe(400);
      expect(res.json.error).toMatch(pattern);
    }
    const big = await post("/", JSON.stringify(["SET", "k", "x".repeat(10 * 1024 * 1024)]));
    expect(big.status).toBe(400);
    expect(big.json.error).toMatch(/max request size exceeded/);
    expect((await fetch(`${rest.url}/nope`, { method: "POST", body: "[]" })).status).toBe(404);
    expect((await fetch(`${rest.url}/`, { headers: { authorization: `Bearer ${rest.token}` } })).status).toBe(405);
    expect(await direct.ping()).toBe("PONG");
  });
});

describe("stats", () => {
  it("counts requests per endpoint and every executed command", async () => {
    const p = prefix();
    const snapshot = () => ({ commands: rest.stats.commands, ...rest.stats.requests });
    const before = snapshot();
    await direct.set(`${p}a`, "1");
    // Writes issued in the same tick: auto-pipelining sends them as one /pipeline request
    // (it batches reads and writes separately).
    await Promise.all([redis.set(`${p}b`, "1"), redis.set(`${p}c`, "1"), redis.incr(`${p}a`)]);
    await redis.multi().incr(`${p}a`).incr(`${p}b`).exec();
    expect(await tcp.get(`${p}a`)).toBe("3");
    await expect(direct.exec(["BLPOP", `${p}l`, 1])).rejects.toThrow(); // refused: a request, not a command
    expect(snapshot()).toEqual({
      commands: before.commands + 1 + 3 + 2,
      "/": before["/"] + 2,
      "/pipeline": before["/pipeline"] + 1,
      "/multi-exec": before["/multi-exec"] + 1,
    });
  });
});

describe("the run-wide stand-in from globalSetup", () => {
  it("serves the provided url and token", async () => {
    const client = new UpstashRedis({ url: inject("upstashUrl"), token: inject("upstashToken"), automaticDeserialization: false });
    const key = `${prefix()}k`;
    await client.set(key, "123");
    expect(await client.get(key)).toBe("123");
    expect(await tcp.get(key)).toBe("123"); // same redis-server as inject("redisUrl")
  });
});
