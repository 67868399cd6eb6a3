import { describe, expect, it } from "vitest";
import { configFromEnv, ConfigError } from "../../packages/core/src/index.ts";

describe("configFromEnv", () => {
  it("prefers TCP when WORKSTREAM_REDIS_URL is set, with the seed defaults", () => {
    const c = configFromEnv({ WORKSTREAM_REDIS_URL: "redis://127.0.0.1:6379", UPSTASH_REDIS_REST_URL: "https://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" });
    expect(c.connection).toEqual({ kind: "tcp", url: "redis://127.0.0.1:6379" });
    expect(c.settings).toMatchObject({ keyPrefix: "ws:", claimIdleMs: 60_000, maxJobTtlMs: 7 * 86_400_000, dlqRetentionMs: 0 });
    expect(c.settings.queues.map((q) => [q.name, q.maxRetries])).toEqual([["high_priority", 3], ["default", 3], ["low_priority", 2]]);
  });

  it("reads the Upstash pair, retry max, TTL days and user queues", () => {
    const c = configFromEnv({
      UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "tok",
      WORKSTREAM_KEY_PREFIX: "aragora:queue:",
      WORKSTREAM_RETRY_MAX: "5",
      WORKSTREAM_CLAIM_IDLE_MS: "30000",
      WORKSTREAM_JOB_TTL_DAYS: "3",
      WORKSTREAM_QUEUE_CONFIG: JSON.stringify([{ name: "debates", rank: 5, timeoutMs: 900_000 }]),
    });
    expect(c.connection).toEqual({ kind: "upstash", url: "https://x.upstash.io", token: "tok" });
    expect(c.settings.keyPrefix).toBe("aragora:queue:");
    expect(c.settings.claimIdleMs).toBe(30_000);
    expect(c.settings.maxJobTtlMs).toBe(3 * 86_400_000);
    expect(c.settings.queues.find((q) => q.name === "low_priority")?.maxRetries).toBe(5);
    expect(c.settings.queues.find((q) => q.name === "debates")).toMatchObject({ rank: 5, timeoutMs: 900_000, maxRetries: 5, ttlMs: 7_200_000 });
  });

  it("reads the request TTL and retention in seconds, defaulting to seed 1's 30 min and 1 h", () => {
    const base = { WORKSTREAM_REDIS_URL: "redis://127.0.0.1:6379" };
    expect(configFromEnv(base).settings).toMatchObject({ requestTtlMs: 1_800_000, requestRetentionMs: 3_600_000 });
    expect(configFromEnv({ ...base, WORKSTREAM_REQUEST_TTL_SECONDS: "600", WORKSTREAM_REQUEST_RETENTION_SECONDS: "86400" }).settings).toMatchObject({ requestTtlMs: 600_000, requestRetentionMs: 86_400_000 });
    expect(() => configFromEnv({ ...base, WORKSTREAM_REQUEST_TTL_SECONDS: "half an hour" })).toThrow(/WORKSTREAM_REQUEST_TTL_SECONDS/);
    expect(() => configFromEnv({ ...base, WORKSTREAM_REQUEST_RETENTION_SECONDS: "10" })).toThrow(ConfigError);
  });

  it("with WORKSTREAM_REQUIRE_TLS=true (deployed stages) refuses Redis URLs without TLS, naming the variable", () => {
    const tls = { WORKSTREAM_REQUIRE_TLS: "true" };
    expect(configFromEnv({ ...tls, WORKSTREAM_REDIS_URL: "rediss://default:pw@eu1.upstash.io:6379" }).connection.kind).toBe("tcp");
    expect(configFromEnv({ ...tls, UPSTASH_REDIS_REST_URL: "https://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" }).connection.kind).toBe("upstash");
    expect(() => configFromEnv({ ...tls, WORKSTREAM_REDIS_URL: "redis://default:pw@eu1.upstash.io:6379" })).toThrow(/^WORKSTREAM_REDIS_URL must use TLS \(rediss:\/\/\)/);
    expect(() => configFromEnv({ ...tls, UPSTASH_REDIS_REST_URL: "http://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" })).toThrow(/^UPSTASH_REDIS_REST_URL must use https:\/\//);
    expect(() => configFromEnv({ WORKSTREAM_REQUIRE_TLS: "yes", WORKSTREAM_REDIS_URL: "rediss://h:6379" })).toThrow(ConfigError);
    // off (the default, and the local stack): plain URLs are fine
    expect(configFromEnv({ WORKSTREAM_REDIS_URL: "redis://127.0.0.1:6379" }).connection.kind).toBe("tcp");
  });

  it.each([
    [{}, "WORKSTREAM_REDIS_URL"],
    [{ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, "UPSTASH_REDIS_REST_TOKEN"],
    [{ WORKSTREAM_REDIS_URL: "http://nope" }, "WORKSTREAM_REDIS_URL"],
    [{ WORKSTREAM_REDIS_URL: "redis://h", WORKSTREAM_RETRY_MAX: "three" }, "WORKSTREAM_RETRY_MAX"],
    [{ WORKSTREAM_REDIS_URL: "redis://h", WORKSTREAM_QUEUE_CONFIG: "[{" }, "WORKSTREAM_QUEUE_CONFIG"],
    [{ WORKSTREAM_REDIS_URL: "redis://h", WORKSTREAM_QUEUE_CONFIG: '[{"name":"Bad Name"}]' }, "WORKSTREAM_QUEUE_CONFIG"],
    [{ WORKSTREAM_REDIS_URL: "redis://h", WORKSTREAM_CLAIM_IDLE_MS: "10" }, "claimIdleMs"],
  ])("fails at start-up naming the culprit: %j", (env, culprit) => {
    expect(() => configFromEnv(env)).toThrow(ConfigError);
    expect(() => configFromEnv(env)).toThrow(culprit);
  });
});
