/**
 * Invariants of the stage settings that no single infra assertion would show, and their checks
 * held against the runtime's own parsers (a value the deploy accepts must not fail a cold start).
 * Needs no .sst.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_ENV, apiConfigFromEnv } from "../../functions/_lib/config.ts";
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  parseWorkerArgs,
  WORKER_ENV,
} from "../../packages/worker/src/run.ts";
import {
  configFromEnv,
  createNotifyContext,
  DEFAULT_QUEUES,
  ENV,
  METRICS_ENV,
  metricsConfigFromEnv,
  NOTIFY_ENV,
  notifyConfigFromEnv,
  PermissionLevel,
  QueueConfig,
  QueueRegistry,
} from "../../packages/core/src/index.ts";
import {
  DEFAULT_QUEUE_NAMES,
  IMAGE_HANDLER_PATH,
  lambdaEnvironment,
  PERMISSION_LEVELS,
  RUNTIME_VARIABLES,
  settingsFor,
  workerEnvironment,
  type RuntimeEnvironment,
  type RuntimeVariable,
} from "../../infra/settings.ts";

const repo = path.resolve(import.meta.dirname, "../..");

describe.each(["prod", "dev", "pr-42"])("settings for %s", (stage) => {
  const s = settingsFor(stage);

  it("lets the worker finish draining before ECS kills it", () => {
    expect(s.worker.shutdownGraceMs).toBeLessThan(s.worker.stopTimeoutSeconds * 1000);
    expect(s.worker.shutdownGraceMs).toBe(DEFAULT_SHUTDOWN_GRACE_MS);
    expect(s.worker.stopTimeoutSeconds).toBeLessThanOrEqual(120); // Fargate's maximum
  });

  it("keeps at least one worker and a sane task range", () => {
    expect(s.worker.minTasks).toBeGreaterThanOrEqual(1);
    expect(s.worker.maxTasks).toBeGreaterThanOrEqual(s.worker.minTasks);
  });

  it("publishes metrics per stage", () => {
    expect(s.metricsNamespace).toBe(`Workstream/${stage}`);
  });
});

describe("stage awareness", () => {
  it("keeps every non-prod stage small and on Spot", () => {
    const prod = settingsFor("prod");
    for (const stage of ["dev", "pr-42", "alice"]) {
      const dev = settingsFor(stage);
      expect(dev.isProd).toBe(false);
      expect(dev.worker.spot).toBe(true);
      expect(dev.worker.maxTasks).toBeLessThan(prod.worker.maxTasks);
      expect(parseFloat(dev.worker.cpu)).toBeLessThan(parseFloat(prod.worker.cpu));
    }
    expect([prod.worker.cpu, prod.worker.memory, prod.worker.minTasks, prod.worker.maxTasks]).toEqual(["1 vCPU", "2 GB", 1, 20]);
  });

  it("uses the agreed default thresholds", () => {
    expect(settingsFor("prod").alarms).toEqual({ dlqDepth: 0, queueDepth: 100, jobsFailed: 10, failedPeriodSeconds: 300, failedRegistry: 10 });
    expect(settingsFor("prod").scaling).toEqual({ targetBacklogPerWorker: 4, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 });
  });
});

describe("the worker handler", () => {
  it("is null on prod (no workers until you name yours) and the example elsewhere", () => {
    expect(settingsFor("prod").worker.handler).toBeNull();
    for (const stage of ["dev", "pr-42", "alice"]) expect(settingsFor(stage).worker.handler).toBe("worker/handler.ts");
  });

  it("names a module that exists in the repo", () => {
    for (const stage of ["prod", "dev"]) {
      const h = settingsFor(stage).worker.handler;
      if (h) expect(fs.existsSync(path.join(repo, h)), h).toBe(true);
    }
  });

  it("must be a path inside the repo", () => {
    for (const bad of ["/abs/handler.ts", "../outside.ts", "worker/../../x.ts", "worker/handler", "a b.ts", "x.ts; rm -rf /"]) {
      expect(() => settingsFor("dev", { worker: { handler: bad } }), bad).toThrow(/worker\.handler must be a \.ts\/\.mts\/\.js\/\.mjs module path inside the repo/);
    }
    expect(settingsFor("prod", { worker: { handler: "src/jobs/handler.mjs" } }).worker.handler).toBe("src/jobs/handler.mjs");
  });

  it("is what the worker environment points at, in the image", () => {
    expect(workerEnvironment(settingsFor("dev"))).toMatchObject({ WORKSTREAM_HANDLER: IMAGE_HANDLER_PATH });
    expect(workerEnvironment(settingsFor("prod"))).not.toHaveProperty("WORKSTREAM_HANDLER");
  });
});

describe("runtime environment", () => {
  const full: RuntimeEnvironment = {
    WORKSTREAM_QUEUE_CONFIG: [{ name: "debates", rank: 5, timeoutMs: 900_000, retry: { kind: "fixed", intervalsMs: [1000, 5000] } }],
    WORKSTREAM_RETRY_MAX: 5,
    WORKSTREAM_CLAIM_IDLE_MS: 90_000,
    WORKSTREAM_JOB_TTL_DAYS: 3,
    WORKSTREAM_MAX_PAYLOAD_BYTES: 2_000_000,
    WORKSTREAM_DLQ_RETENTION_DAYS: "30",
    WORKSTREAM_REQUEST_TTL_SECONDS: 600,
    WORKSTREAM_REQUEST_RETENTION_SECONDS: "7200",
    WORKSTREAM_MAX_BODY_BYTES: 4_000_000,
    WORKSTREAM_AUDIT_MAX_ENTRIES: 50_000,
    WORKSTREAM_NOTIFY_MODE: "qstash",
    WORKSTREAM_NOTIFY_RETRIES: 5,
    QSTASH_URL: "https://qstash-us-east-1.upstash.io",
    WORKSTREAM_DLQ_WEBHOOK_URL: "https://hooks.example.com/dlq?team=ops",
    WORKSTREAM_PUSH_QUEUES: '{"debates":{"url":"https://push.example.com/run","parallelism":3,"retries":2}}',
    WORKSTREAM_ALERT_PENDING: 250,
    WORKSTREAM_ALERT_FAILED: 0,
    WORKSTREAM_LOG_LEVEL: "debug",
    WORKSTREAM_PREFETCH: "auto",
  };
  const withFull = () => settingsFor("prod", { environment: full, worker: { handler: "worker/handler.ts", queues: ["debates", "high_priority"], permissionLevels: ["supervised"] } });

  it("allows every variable the runtime reads and no name it does not", () => {
    const read = new Set<string>([...Object.values(ENV), ...Object.values(NOTIFY_ENV), ...Object.values(METRICS_ENV), ...Object.values(API_ENV), ...Object.values(WORKER_ENV)]);
    for (const name of Object.keys(RUNTIME_VARIABLES)) expect(read.has(name), name).toBe(true);
    expect(Object.keys(full).sort()).toEqual(Object.keys(RUNTIME_VARIABLES).sort()); // the sample below covers them all
  });

  it("passes shared variables to Lambdas and workers, worker-only ones to workers only, JSON as text", () => {
    const s = withFull();
    const lambda = lambdaEnvironment(s);
    const worker = workerEnvironment(s);
    expect(lambda).toMatchObject({
      WORKSTREAM_KEY_PREFIX: "ws:",
      WORKSTREAM_METRICS_NAMESPACE: "Workstream/prod",
      WORKSTREAM_QUEUE_CONFIG: JSON.stringify(full.WORKSTREAM_QUEUE_CONFIG),
      WORKSTREAM_RETRY_MAX: "5",
      WORKSTREAM_DLQ_RETENTION_DAYS: "30",
      QSTASH_URL: "https://qstash-us-east-1.upstash.io",
      WORKSTREAM_PUSH_QUEUES: full.WORKSTREAM_PUSH_QUEUES,
    });
    expect(lambda).not.toHaveProperty("WORKSTREAM_LOG_LEVEL");
    expect(lambda).not.toHaveProperty("WORKSTREAM_PREFETCH");
    expect(worker).toMatchObject({
      ...lambda,
      WORKSTREAM_LOG_LEVEL: "debug",
      WORKSTREAM_PREFETCH: "auto",
      WORKSTREAM_QUEUES: "debates,high_priority",
      WORKSTREAM_PERMISSION_LEVELS: "supervised",
    });
  });

  it("is accepted by the runtime's own parsers (API, crons, worker)", () => {
    const s = withFull();
    // The secrets SST links, as the runtime maps them.
    const secrets = { UPSTASH_REDIS_REST_URL: "https://db.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t", QSTASH_TOKEN: "q" };
    runtimeAccepts({ ...lambdaEnvironment(s), ...secrets });
    runtimeAccepts({ ...workerEnvironment(s), ...secrets, WORKSTREAM_REDIS_URL: "rediss://default:p@db.upstash.io:6379" });
    const worker = parseWorkerArgs([], workerEnvironment(s));
    expect(worker.config).toMatchObject({ handler: IMAGE_HANDLER_PATH, queues: ["debates", "high_priority"], permissionLevels: ["supervised"], concurrency: 4, logLevel: "debug" });
    const engine = configFromEnv({ ...workerEnvironment(s), ...secrets });
    expect(new QueueRegistry(engine.settings.queues).claimOrder(worker.config.queues).map((q) => q.name)).toEqual(["high_priority", "debates"]);
  });

  it("rejects names it does not know, secrets and what other settings own, naming them", () => {
    const bad = (environment: Record<string, unknown>) => () => settingsFor("dev", { environment: environment as RuntimeEnvironment });
    expect(bad({ WORKSTREAM_RETRIES: "5" })).toThrow(/environment\.WORKSTREAM_RETRIES is not a variable Workstream reads; allowed: WORKSTREAM_QUEUE_CONFIG, /);
    expect(bad({ QSTASH_TOKEN: "x" })).toThrow(/environment\.QSTASH_TOKEN cannot be set here: a secret: npx sst secret set QStashToken/);
    expect(bad({ WORKSTREAM_QUEUES: "a" })).toThrow(/environment\.WORKSTREAM_QUEUES cannot be set here: set `worker\.queues`/);
    expect(bad({ WORKSTREAM_HANDLER: "a" })).toThrow(/set `worker\.handler`/);
    expect(bad({ WORKSTREAM_KEY_PREFIX: "x:" })).toThrow(/it is `keyPrefix`/);
    // Every problem at once, not one per deploy attempt.
    expect(bad({ A: "1", B: "2" })).toThrow(/environment\.A [\s\S]*environment\.B /);
  });

  // [variable, value]: the infra check and the runtime's parser must agree on each.
  const values: [RuntimeVariable, string, "ok" | "bad"][] = [
    ["WORKSTREAM_RETRY_MAX", "0", "ok"],
    ["WORKSTREAM_RETRY_MAX", "101", "bad"],
    ["WORKSTREAM_RETRY_MAX", "three", "bad"],
    ["WORKSTREAM_RETRY_MAX", "-1", "bad"],
    ["WORKSTREAM_DLQ_RETENTION_DAYS", "0", "ok"],
    ["WORKSTREAM_DLQ_RETENTION_DAYS", "1.5", "bad"],
    ["WORKSTREAM_CLAIM_IDLE_MS", "999", "bad"],
    ["WORKSTREAM_MAX_PAYLOAD_BYTES", "9000000", "bad"],
    ["WORKSTREAM_MAX_BODY_BYTES", "1000", "bad"],
    ["WORKSTREAM_AUDIT_MAX_ENTRIES", "99", "bad"],
    ["WORKSTREAM_NOTIFY_MODE", "off", "ok"],
    ["WORKSTREAM_NOTIFY_MODE", "email", "bad"],
    ["WORKSTREAM_NOTIFY_RETRIES", "101", "bad"],
    ["QSTASH_URL", "https://qstash.upstash.io", "ok"],
    ["QSTASH_URL", "qstash-us-east-1.upstash.io", "bad"],
    ["WORKSTREAM_DLQ_WEBHOOK_URL", "ftp://hooks.example.com", "bad"],
    ["WORKSTREAM_ALERT_PENDING", "lots", "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", '[{"name":"emails"}]', "ok"],
    ["WORKSTREAM_QUEUE_CONFIG", '[{"name":"Emails"}]', "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", '[{"name":"emails","maxRetries":101}]', "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", '[{"name":"emails","timeoutMs":0}]', "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", '[{"name":"emails","retry":{"kind":"linear"}}]', "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", '{"name":"emails"}', "bad"],
    ["WORKSTREAM_QUEUE_CONFIG", "[{name: 'emails'}]", "bad"],
    ["WORKSTREAM_PUSH_QUEUES", '{"default":{"url":"https://x.example.com"}}', "ok"],
    ["WORKSTREAM_PUSH_QUEUES", '{"default":{"url":"x.example.com"}}', "bad"],
    ["WORKSTREAM_PUSH_QUEUES", '{"default":{"url":"https://x.example.com","parallelism":0}}', "bad"],
    ["WORKSTREAM_PUSH_QUEUES", '{"nosuchqueue":{"url":"https://x.example.com"}}', "bad"],
    ["WORKSTREAM_LOG_LEVEL", "verbose", "bad"],
    ["WORKSTREAM_PREFETCH", "1001", "bad"],
    ["WORKSTREAM_PREFETCH", "8", "ok"],
  ];
  it.each(values)("%s=%s is %s for infra and runtime alike", (name, value, verdict) => {
    const infra = () => settingsFor("dev", { environment: { [name]: value } as RuntimeEnvironment });
    const env = { UPSTASH_REDIS_REST_URL: "https://db.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t", QSTASH_TOKEN: "q", [name]: value };
    if (verdict === "ok") {
      expect(infra).not.toThrow();
      expect(() => runtimeAccepts(env)).not.toThrow();
    } else {
      expect(infra).toThrow(new RegExp(`environment\\.${name} `));
      expect(() => runtimeAccepts(env)).toThrow();
    }
  });

  it("accepts every queue setting the engine has, and no other", () => {
    for (const field of Object.keys(QueueConfig.shape).filter((k) => k !== "name" && k !== "retry")) {
      expect(() => settingsFor("dev", { environment: { WORKSTREAM_QUEUE_CONFIG: `[{"name":"q","${field}":1}]` } }), field).not.toThrow();
    }
    expect(() => settingsFor("dev", { environment: { WORKSTREAM_QUEUE_CONFIG: '[{"name":"q","timeout":1}]' } })).toThrow(/\[0\]\.timeout is not a queue setting/);
  });

  it("knows the engine's default queues and permission levels", () => {
    expect([...DEFAULT_QUEUE_NAMES]).toEqual(DEFAULT_QUEUES.map((q) => q.name));
    expect([...PERMISSION_LEVELS]).toEqual(PermissionLevel.options);
  });
});

describe("worker queues and levels", () => {
  it("take every configured queue by default, user-defined ones included", () => {
    expect(settingsFor("dev").worker.queues).toBeNull();
    expect(workerEnvironment(settingsFor("dev"))).not.toHaveProperty("WORKSTREAM_QUEUES");
    expect(workerEnvironment(settingsFor("dev"))).toMatchObject({ WORKSTREAM_PERMISSION_LEVELS: "autonomous" });
  });

  it("may only name configured queues", () => {
    expect(() => settingsFor("dev", { worker: { queues: ["emails"] } })).toThrow(/worker\.queues names "emails", which is not configured .*define it in environment\.WORKSTREAM_QUEUE_CONFIG/);
    expect(() => settingsFor("dev", { worker: { queues: [] } })).toThrow(/worker\.queues must name at least one queue/);
    const s = settingsFor("dev", { worker: { queues: ["emails", "default"] }, environment: { WORKSTREAM_QUEUE_CONFIG: [{ name: "emails" }] } });
    expect(workerEnvironment(s).WORKSTREAM_QUEUES).toBe("emails,default");
  });

  it("rejects unknown permission levels and broken drain settings", () => {
    expect(() => settingsFor("dev", { worker: { permissionLevels: ["root" as never] } })).toThrow(/"root" is not one of autonomous, supervised, human_required/);
    expect(() => settingsFor("dev", { worker: { shutdownGraceMs: 120_000 } })).toThrow(/shutdownGraceMs \(120000\) must stay below stopTimeoutSeconds/);
    expect(() => settingsFor("dev", { worker: { concurrency: 0 } })).toThrow(/worker\.concurrency must be 1\.\.1000/);
  });
});

/** Runs an environment through every parser the API, the crons and the worker run at cold start. */
function runtimeAccepts(env: Record<string, string | undefined>): void {
  const engine = configFromEnv(env);
  const notify = notifyConfigFromEnv(env);
  const queueNames = new QueueRegistry(engine.settings.queues).names;
  createNotifyContext({ config: notify, jobs: {} as never, queueNames, notifier: null });
  metricsConfigFromEnv(env);
  apiConfigFromEnv(env);
  parseWorkerArgs([], { ...env, WORKSTREAM_HANDLER: IMAGE_HANDLER_PATH });
}
