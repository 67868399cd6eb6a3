/**
 * Stage-aware deployment settings: the one place to tune sizes, scaling and alarm thresholds, to
 * name the job handler the workers run, and to configure the runtime every Lambda and worker sees.
 *
 * Pure (no SST globals) so tests can import it directly; infra modules call `settingsFor($app.stage)`.
 * `prod` gets production sizes; every other stage (dev, pr-123, a developer's name) stays cheap.
 *
 * Everything is checked here: a bad value fails `sst deploy` with a message naming the setting,
 * before anything is built, rather than failing every Lambda's cold start or crash-looping workers.
 */

/** Fargate task sizes SST accepts; listed so a typo fails the infra type-check. */
export type FargateCpu = "0.25 vCPU" | "0.5 vCPU" | "1 vCPU" | "2 vCPU" | "4 vCPU";

export const PERMISSION_LEVELS = ["autonomous", "supervised", "human_required"] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/** The queues every deployment has (packages/core/src/queues.ts); WORKSTREAM_QUEUE_CONFIG adds more. */
export const DEFAULT_QUEUE_NAMES = ["high_priority", "default", "low_priority"] as const;

/** Where the worker image keeps the bundled handler (the Dockerfile's `HANDLER` build arg writes it). */
export const IMAGE_HANDLER_PATH = "/app/dist/handler.mjs";

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** One entry of WORKSTREAM_QUEUE_CONFIG: omitted fields take the `default` queue's values. */
export interface QueueDefinition {
  readonly name: string;
  /** Claim order: lower drains first (high_priority 0, default 10, low_priority 20). */
  readonly rank?: number;
  readonly ttlMs?: number;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly resultTtlMs?: number;
  readonly failureTtlMs?: number;
  /** `{ kind: "exponential", baseMs, factor, maxMs, jitter }` or `{ kind: "fixed", intervalsMs }`. */
  readonly retry?: { readonly [key: string]: Json };
}

/** One entry of WORKSTREAM_PUSH_QUEUES: deliver the queue's jobs by HTTP POST through QStash. */
export interface PushQueue {
  readonly url: string;
  readonly parallelism?: number;
  readonly retries?: number;
}

/**
 * Runtime configuration passed through to the Lambdas and the workers as environment variables.
 * Only these names are accepted (anything else fails the deploy); each means what it means in the
 * README / docs/maintenance.md tables. JSON variables take either the JSON text or the value itself.
 * Secrets never go here: they are `sst.Secret`s (infra/secrets.ts).
 */
export interface RuntimeEnvironment {
  /** User-defined queues, or overrides of the three default ones. */
  readonly WORKSTREAM_QUEUE_CONFIG?: string | readonly QueueDefinition[];
  /** Retries after the first attempt, for every default queue (default 3; low_priority 2). */
  readonly WORKSTREAM_RETRY_MAX?: number | string;
  /** Lease the Worker runtime asks for, in ms (default 60000). */
  readonly WORKSTREAM_CLAIM_IDLE_MS?: number | string;
  /** Longest a finished job record is kept (default 7). */
  readonly WORKSTREAM_JOB_TTL_DAYS?: number | string;
  /** Largest payload/result accepted, in bytes (default 1 MiB, at most 8 MiB). */
  readonly WORKSTREAM_MAX_PAYLOAD_BYTES?: number | string;
  /** How long dead-lettered jobs are kept (default 0 = until cleared). */
  readonly WORKSTREAM_DLQ_RETENTION_DAYS?: number | string;
  /** How long a worker's question waits for an answer unless it sets its own (default 1800). */
  readonly WORKSTREAM_REQUEST_TTL_SECONDS?: number | string;
  /** How long a request record is kept after it closed (default 3600). */
  readonly WORKSTREAM_REQUEST_RETENTION_SECONDS?: number | string;
  /** API: largest request body, in bytes. */
  readonly WORKSTREAM_MAX_BODY_BYTES?: number | string;
  /** API: audit log length. */
  readonly WORKSTREAM_AUDIT_MAX_ENTRIES?: number | string;
  /** "qstash" (default with the QStashToken secret), "http" or "off". */
  readonly WORKSTREAM_NOTIFY_MODE?: "qstash" | "http" | "off";
  /** Destination retries per message (default 3). */
  readonly WORKSTREAM_NOTIFY_RETRIES?: number | string;
  /** QStash API base URL. Default: the EU endpoint; US-region accounts need https://qstash-us-east-1.upstash.io. */
  readonly QSTASH_URL?: string;
  /** Gets one message per new DLQ entry. */
  readonly WORKSTREAM_DLQ_WEBHOOK_URL?: string;
  /** Push-mode queues: `{ "<queue>": { url, parallelism?, retries? } }`. */
  readonly WORKSTREAM_PUSH_QUEUES?: string | { readonly [queue: string]: PushQueue };
  /** Metrics cron: logged threshold for pending jobs per queue (default 100). */
  readonly WORKSTREAM_ALERT_PENDING?: number | string;
  /** Metrics cron: logged threshold for failed jobs per queue (default 10). */
  readonly WORKSTREAM_ALERT_FAILED?: number | string;
  /** Workers only: "debug", "info" (default), "warn" or "error". */
  readonly WORKSTREAM_LOG_LEVEL?: "debug" | "info" | "warn" | "error";
  /** Workers only: claimed jobs kept in hand beyond the concurrency, 0..1000 or "auto" (default). */
  readonly WORKSTREAM_PREFETCH?: number | "auto";
}
export type RuntimeVariable = keyof RuntimeEnvironment;

export interface Settings {
  readonly stage: string;
  readonly isProd: boolean;
  /** CloudWatch namespace the metrics cron publishes to and alarms/autoscaling read from. */
  readonly metricsNamespace: string;
  /** Redis key prefix shared by Lambdas and workers: both must agree or they see different queues. */
  readonly keyPrefix: string;
  /** Passed to every Lambda and worker (see RuntimeEnvironment); checked against an allowlist. */
  readonly environment: RuntimeEnvironment;
  readonly lambda: {
    readonly memory: `${number} MB`;
    /** API Gateway caps integrations at 30 s. Inside it, claim polls for at most 5 s (`waitMs` ≤ 5000); the longest wait is getAnswer's long-poll (≤ 20 s). */
    readonly apiTimeout: `${number} seconds`;
    readonly cronTimeout: `${number} seconds`;
  };
  readonly worker: {
    /**
     * Your job handler: a module in this repository (path from the repo root) exporting the handler
     * as `default` or `handler`. The worker image bundles it (Dockerfile build arg `HANDLER`).
     * null: this stage has **no workers** (no service, no scaling); jobs wait for a worker you
     * run elsewhere or for HTTP workers (POST /v1/claim).
     */
    readonly handler: string | null;
    readonly cpu: FargateCpu;
    readonly memory: `${number} GB`;
    readonly minTasks: number;
    readonly maxTasks: number;
    /** Fargate Spot is fine for dev: the worker drains on SIGTERM like any other stop. */
    readonly spot: boolean;
    /** Queues to take work from, in priority order; null = every configured queue (user-defined ones too). */
    readonly queues: readonly string[] | null;
    /** Levels the workers may claim (WORKSTREAM_PERMISSION_LEVELS). */
    readonly permissionLevels: readonly PermissionLevel[];
    readonly concurrency: number;
    /** The worker's own drain deadline; must stay below `stopTimeoutSeconds` or ECS SIGKILLs mid-drain. */
    readonly shutdownGraceMs: number;
    /** ECS waits this long after SIGTERM before SIGKILL (Fargate allows at most 120 s). */
    readonly stopTimeoutSeconds: number;
  };
  readonly scaling: {
    /** Target for (pending + in flight) / workers: roughly the worker's concurrency. */
    readonly targetBacklogPerWorker: number;
    readonly scaleInCooldownSeconds: number;
    readonly scaleOutCooldownSeconds: number;
  };
  readonly alarms: {
    /** DLQ depth above which the (notification-less) "DLQ not empty" alarm is in ALARM. */
    readonly dlqDepth: number;
    /** Alarm when more than this many jobs wait across all queues. */
    readonly queueDepth: number;
    /** Alarm when more than this many jobs fail within `failedPeriodSeconds`. */
    readonly jobsFailed: number;
    readonly failedPeriodSeconds: number;
    /** Alarm when more than this many jobs sit in the failed registry (seed 1's "failed > 10"). */
    readonly failedRegistry: number;
  };
}

/** Per-section replacements of the defaults below (tests, forks); validated like the defaults. */
export interface SettingsOverrides {
  readonly environment?: RuntimeEnvironment;
  readonly lambda?: Partial<Settings["lambda"]>;
  readonly worker?: Partial<Settings["worker"]>;
  readonly scaling?: Partial<Settings["scaling"]>;
  readonly alarms?: Partial<Settings["alarms"]>;
}

export function settingsFor(stage: string, overrides: SettingsOverrides = {}): Settings {
  const isProd = stage === "prod";
  const defaults: Settings = {
    stage,
    isProd,
    metricsNamespace: `Workstream/${stage}`,
    keyPrefix: "ws:",
    // Runtime configuration for this stage, e.g.
    //   WORKSTREAM_QUEUE_CONFIG: [{ name: "debates", rank: 5, timeoutMs: 900_000 }],
    //   QSTASH_URL: "https://qstash-us-east-1.upstash.io",   // a US-region QStash account
    environment: {},
    lambda: { memory: "512 MB", apiTimeout: "30 seconds", cronTimeout: "60 seconds" },
    worker: {
      // prod runs no workers until you name your handler: the example would "complete" real jobs
      // without doing them. Other stages run the example (worker/handler.ts) so the path works.
      handler: isProd ? null : "worker/handler.ts",
      cpu: isProd ? "1 vCPU" : "0.25 vCPU",
      memory: isProd ? "2 GB" : "0.5 GB",
      // At least one task everywhere: target tracking scales the current task count in proportion
      // to the metric, so from zero tasks it would never start one.
      minTasks: 1,
      maxTasks: isProd ? 20 : 2,
      spot: !isProd,
      queues: null,
      permissionLevels: ["autonomous"],
      concurrency: 4,
      shutdownGraceMs: 110_000,
      stopTimeoutSeconds: 120,
    },
    scaling: { targetBacklogPerWorker: 4, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 },
    alarms: { dlqDepth: 0, queueDepth: 100, jobsFailed: 10, failedPeriodSeconds: 300, failedRegistry: 10 },
  };
  const settings: Settings = {
    ...defaults,
    environment: { ...defaults.environment, ...overrides.environment },
    lambda: { ...defaults.lambda, ...overrides.lambda },
    worker: { ...defaults.worker, ...overrides.worker },
    scaling: { ...defaults.scaling, ...overrides.scaling },
    alarms: { ...defaults.alarms, ...overrides.alarms },
  };
  const problems = settingsProblems(settings);
  if (problems.length > 0) {
    throw new Error(`infra/settings.ts (stage ${stage}) is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return settings;
}

// ── Environment for the Lambdas and the workers ─────────────────────────────────────────────────

/** What every Lambda gets: the shared settings plus the stage's runtime configuration. */
export function lambdaEnvironment(s: Settings): Record<string, string> {
  return {
    WORKSTREAM_KEY_PREFIX: s.keyPrefix,
    WORKSTREAM_METRICS_NAMESPACE: s.metricsNamespace,
    // Upstash is reached over the internet: refuse a redis:// or http:// URL at start-up
    WORKSTREAM_REQUIRE_TLS: "true",
    // BacklogPerWorker (the autoscaling metric) counts only the work the Fargate workers can take
    ...(s.worker.queues ? { WORKSTREAM_BACKLOG_QUEUES: s.worker.queues.join(",") } : {}),
    WORKSTREAM_BACKLOG_LEVELS: s.worker.permissionLevels.join(","),
    ...runtimeVariables(s.environment, "all"),
  };
}

/** What every worker task gets: the Lambdas' environment plus the worker's own settings. */
export function workerEnvironment(s: Settings): Record<string, string> {
  const w = s.worker;
  return {
    ...lambdaEnvironment(s),
    ...runtimeVariables(s.environment, "worker"),
    ...(w.handler ? { WORKSTREAM_HANDLER: IMAGE_HANDLER_PATH } : {}),
    ...(w.queues ? { WORKSTREAM_QUEUES: w.queues.join(",") } : {}),
    WORKSTREAM_PERMISSION_LEVELS: w.permissionLevels.join(","),
    WORKSTREAM_CONCURRENCY: String(w.concurrency),
    WORKSTREAM_SHUTDOWN_GRACE_MS: String(w.shutdownGraceMs),
  };
}

/** The queue names a stage configures: the defaults plus WORKSTREAM_QUEUE_CONFIG's. */
export function configuredQueueNames(env: RuntimeEnvironment): string[] {
  const names = new Set<string>(DEFAULT_QUEUE_NAMES);
  const parsed = parseJson(env.WORKSTREAM_QUEUE_CONFIG);
  if (Array.isArray(parsed)) for (const q of parsed) if (isRecord(q) && typeof q.name === "string") names.add(q.name);
  return [...names];
}

function runtimeVariables(env: RuntimeEnvironment, scope: Scope): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const spec = (RUNTIME_VARIABLES as Record<string, VariableSpec | undefined>)[name];
    if (value === undefined || !spec || spec.scope !== scope) continue;
    out[name] = asText(value);
  }
  return out;
}

// ── Validation ──────────────────────────────────────────────────────────────────────────────────

type Scope = "all" | "worker";
/** Returns what is wrong with a value (as text), or null. */
type Check = (value: string) => string | null;
interface VariableSpec {
  /** "all": every Lambda and worker; "worker": worker tasks only. */
  readonly scope: Scope;
  readonly check: Check;
}

const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const QUEUE_NAME_RULE = "lower-case letters, digits, _ and -, starting with a letter or digit, at most 64";
const HTTP_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/\S*)?$/;

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    !/^\d+$/.test(v) ? `must be a whole number, got "${v}"` : Number(v) < min || Number(v) > max ? `must be ${min}..${max}, got ${v}` : null;
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    allowed.includes(v) ? null : `must be one of ${allowed.join(", ")}, got "${v}"`;
const httpUrl: Check = (v) => (HTTP_URL.test(v) ? null : `must be an http(s) URL, got "${v}"`);
const json =
  (check: (parsed: unknown) => string | null): Check =>
  (v) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return "is not valid JSON";
    }
    return check(parsed);
  };
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Field → range of a QueueDefinition's numeric fields (packages/core/src/queues.ts QueueConfig). */
const QUEUE_FIELDS: Record<string, [number, number?]> = {
  rank: [0, 1000],
  ttlMs: [0],
  timeoutMs: [1],
  maxRetries: [0, 100],
  resultTtlMs: [1],
  failureTtlMs: [1],
};

function queueDefinitions(parsed: unknown): string | null {
  if (!Array.isArray(parsed)) return "must be a JSON array of queue definitions";
  const seen = new Set<string>();
  for (const [i, q] of parsed.entries()) {
    if (!isRecord(q)) return `[${i}] must be an object`;
    if (typeof q.name !== "string" || !QUEUE_NAME.test(q.name)) return `[${i}].name must be a queue name (${QUEUE_NAME_RULE})`;
    if (seen.has(q.name)) return `queue "${q.name}" is defined twice`;
    seen.add(q.name);
    for (const [field, value] of Object.entries(q)) {
      if (field === "name") continue;
      if (field === "retry") {
        if (!isRecord(value) || (value.kind !== "exponential" && value.kind !== "fixed")) return `[${i}].retry must be { kind: "exponential" | "fixed", … }`;
        continue;
      }
      const range = QUEUE_FIELDS[field];
      if (!range) return `[${i}].${field} is not a queue setting (${["name", ...Object.keys(QUEUE_FIELDS), "retry"].join(", ")})`;
      if (!isInt(value, range[0], range[1])) return `[${i}].${field} must be a whole number ≥ ${range[0]}${range[1] === undefined ? "" : ` and ≤ ${range[1]}`}`;
    }
  }
  return null;
}

function pushQueues(parsed: unknown): string | null {
  if (!isRecord(parsed)) return `must be a JSON object { "<queue>": { "url": "https://…" } }`;
  for (const [queue, p] of Object.entries(parsed)) {
    if (!QUEUE_NAME.test(queue)) return `"${queue}" is not a queue name (${QUEUE_NAME_RULE})`;
    if (!isRecord(p) || typeof p.url !== "string" || !HTTP_URL.test(p.url)) return `${queue}.url must be an http(s) URL`;
    if (p.parallelism !== undefined && !isInt(p.parallelism, 1, 1000)) return `${queue}.parallelism must be 1..1000`;
    if (p.retries !== undefined && !isInt(p.retries, 0, 100)) return `${queue}.retries must be 0..100`;
    const extra = Object.keys(p).filter((k) => !["url", "parallelism", "retries"].includes(k));
    if (extra.length > 0) return `${queue}.${extra[0]} is not a push-queue setting (url, parallelism, retries)`;
  }
  return null;
}

/** The allowlist: every variable `environment` may set, where it goes and how it is checked. */
export const RUNTIME_VARIABLES: { readonly [K in RuntimeVariable]-?: VariableSpec } = {
  WORKSTREAM_QUEUE_CONFIG: { scope: "all", check: json(queueDefinitions) },
  WORKSTREAM_RETRY_MAX: { scope: "all", check: wholeNumber(0, 100) },
  WORKSTREAM_CLAIM_IDLE_MS: { scope: "all", check: wholeNumber(1000) },
  WORKSTREAM_JOB_TTL_DAYS: { scope: "all", check: wholeNumber(1) },
  WORKSTREAM_MAX_PAYLOAD_BYTES: { scope: "all", check: wholeNumber(1, 8 * 1024 * 1024) },
  WORKSTREAM_DLQ_RETENTION_DAYS: { scope: "all", check: wholeNumber(0) },
  WORKSTREAM_REQUEST_TTL_SECONDS: { scope: "all", check: wholeNumber(1, 24 * 3600) },
  WORKSTREAM_REQUEST_RETENTION_SECONDS: { scope: "all", check: wholeNumber(60, 30 * 24 * 3600) },
  WORKSTREAM_MAX_BODY_BYTES: { scope: "all", check: wholeNumber(1024, 10 * 1024 * 1024) },
  WORKSTREAM_AUDIT_MAX_ENTRIES: { scope: "all", check: wholeNumber(100, 10_000_000) },
  WORKSTREAM_NOTIFY_MODE: { scope: "all", check: oneOf("qstash", "http", "off") },
  WORKSTREAM_NOTIFY_RETRIES: { scope: "all", check: wholeNumber(0, 100) },
  QSTASH_URL: { scope: "all", check: httpUrl },
  WORKSTREAM_DLQ_WEBHOOK_URL: { scope: "all", check: httpUrl },
  WORKSTREAM_PUSH_QUEUES: { scope: "all", check: json(pushQueues) },
  WORKSTREAM_ALERT_PENDING: { scope: "all", check: wholeNumber(0) },
  WORKSTREAM_ALERT_FAILED: { scope: "all", check: wholeNumber(0) },
  WORKSTREAM_LOG_LEVEL: { scope: "worker", check: oneOf("debug", "info", "warn", "error") },
  WORKSTREAM_PREFETCH: { scope: "worker", check: (v) => (v === "auto" ? null : wholeNumber(0, 1000)(v)) },
};

/** Names people reach for that `environment` must not set, and where they belong instead. */
const NOT_HERE: Record<string, string> = {
  WORKSTREAM_KEY_PREFIX: "it is `keyPrefix`",
  WORKSTREAM_METRICS_NAMESPACE: "it is `metricsNamespace`",
  WORKSTREAM_REQUIRE_TLS: "deployed stages always require TLS to Redis",
  WORKSTREAM_BACKLOG_QUEUES: "it follows `worker.queues`",
  WORKSTREAM_BACKLOG_LEVELS: "it follows `worker.permissionLevels`",
  WORKSTREAM_HANDLER: "set `worker.handler`",
  WORKSTREAM_QUEUES: "set `worker.queues`",
  WORKSTREAM_PERMISSION_LEVELS: "set `worker.permissionLevels`",
  WORKSTREAM_CONCURRENCY: "set `worker.concurrency`",
  WORKSTREAM_SHUTDOWN_GRACE_MS: "set `worker.shutdownGraceMs`",
  WORKSTREAM_WORKER_ID: "each worker picks its own unique id",
  WORKSTREAM_REDIS_URL: "a secret: npx sst secret set UpstashRedisTcpUrl …",
  UPSTASH_REDIS_REST_URL: "a secret: npx sst secret set UpstashRedisUrl …",
  UPSTASH_REDIS_REST_TOKEN: "a secret: npx sst secret set UpstashRedisToken …",
  QSTASH_TOKEN: "a secret: npx sst secret set QStashToken …",
  QSTASH_CURRENT_SIGNING_KEY: "a secret: npx sst secret set QStashCurrentSigningKey …",
  QSTASH_NEXT_SIGNING_KEY: "a secret: npx sst secret set QStashNextSigningKey …",
  WORKSTREAM_ADMIN_KEY: "a secret: npx sst secret set AdminBootstrapKey …",
  WORKSTREAM_ENCRYPTION_KEYS: "a secret: npx sst secret set PayloadEncryptionKey …",
};

function asText(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : JSON.stringify(value);
}

function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Everything wrong with a stage's settings, one message each (empty: fine). */
export function settingsProblems(s: Settings): string[] {
  const problems: string[] = [];
  const allowed = Object.keys(RUNTIME_VARIABLES);
  for (const [name, value] of Object.entries(s.environment as Record<string, unknown>)) {
    if (value === undefined) continue;
    const spec = (RUNTIME_VARIABLES as Record<string, VariableSpec | undefined>)[name];
    if (!spec) {
      problems.push(
        NOT_HERE[name]
          ? `environment.${name} cannot be set here: ${NOT_HERE[name]}`
          : `environment.${name} is not a variable Workstream reads; allowed: ${allowed.join(", ")}`,
      );
      continue;
    }
    if (typeof value !== "string" && typeof value !== "number" && (typeof value !== "object" || value === null)) {
      problems.push(`environment.${name} must be a string, a number or JSON data`);
      continue;
    }
    const wrong = spec.check(asText(value));
    if (wrong) problems.push(`environment.${name} ${wrong}`);
  }

  const queues = configuredQueueNames(s.environment);
  const push = parseJson(s.environment.WORKSTREAM_PUSH_QUEUES);
  if (isRecord(push)) {
    for (const q of Object.keys(push)) {
      if (!queues.includes(q)) problems.push(`environment.WORKSTREAM_PUSH_QUEUES names queue "${q}", which is not configured (${queues.join(", ")}); define it in WORKSTREAM_QUEUE_CONFIG`);
    }
  }

  const w = s.worker;
  if (w.handler !== null && !/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_./@-]+\.(ts|mts|js|mjs)$/.test(w.handler)) {
    problems.push(`worker.handler must be a .ts/.mts/.js/.mjs module path inside the repo, relative to its root (e.g. "worker/handler.ts"), got "${w.handler}"`);
  }
  if (w.queues !== null) {
    if (w.queues.length === 0) problems.push("worker.queues must name at least one queue, or be null for all of them");
    for (const q of w.queues) {
      if (!queues.includes(q)) problems.push(`worker.queues names "${q}", which is not configured (${queues.join(", ")}); define it in environment.WORKSTREAM_QUEUE_CONFIG`);
    }
  }
  if (w.permissionLevels.length === 0) problems.push("worker.permissionLevels must name at least one level");
  for (const l of w.permissionLevels) {
    if (!(PERMISSION_LEVELS as readonly string[]).includes(l)) problems.push(`worker.permissionLevels: "${l}" is not one of ${PERMISSION_LEVELS.join(", ")}`);
  }
  if (!isInt(w.concurrency, 1, 1000)) problems.push(`worker.concurrency must be 1..1000, got ${w.concurrency}`);
  if (!isInt(w.minTasks, 1) || !isInt(w.maxTasks, w.minTasks)) problems.push(`worker task bounds must satisfy 1 ≤ minTasks ≤ maxTasks, got ${w.minTasks}..${w.maxTasks}`);
  if (!isInt(w.stopTimeoutSeconds, 2, 120)) problems.push(`worker.stopTimeoutSeconds must be 2..120 (Fargate's maximum), got ${w.stopTimeoutSeconds}`);
  if (!isInt(w.shutdownGraceMs, 0) || w.shutdownGraceMs >= w.stopTimeoutSeconds * 1000) {
    problems.push(`worker.shutdownGraceMs (${w.shutdownGraceMs}) must stay below stopTimeoutSeconds (${w.stopTimeoutSeconds} s) or ECS kills workers mid-drain`);
  }
  return problems;
}
