/**
 * Engine configuration from the environment, parsed once at start-up so a missing or malformed
 * variable fails loudly before the first request (seed 2's table, renamed to WORKSTREAM_*).
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import { DEFAULT_QUEUES, QueueConfig } from "./queues.ts";
import { SEED2_BACKOFF } from "./retry.ts";
import { envReader } from "./env.ts";

const DAY = 86_400_000;

export const EngineSettings = z.object({
  /** Prefix of every key (seed 2: "aragora:queue:"). */
  keyPrefix: z.string().min(1).max(64).regex(/^[A-Za-z0-9:_\-.]+$/).default("ws:"),
  /** Lease length the Worker runtime asks for; it heartbeats at a third of it (seed 2's claim idle, 60 s). */
  claimIdleMs: z.number().int().min(1000).default(60_000),
  /** Upper bound on how long any job record is kept once finished (seed 2: 7 days). */
  maxJobTtlMs: z.number().int().positive().default(7 * DAY),
  /** Largest accepted payload, in bytes of its JSON. */
  maxPayloadBytes: z.number().int().positive().max(8 * 1024 * 1024).default(1024 * 1024),
  /** How long dead-lettered jobs are kept (0 = until cleared, the seed's default). */
  dlqRetentionMs: z.number().int().min(0).default(0),
  /** How long a worker's question waits for an answer unless it sets its own (seed 1: 30 min). */
  requestTtlMs: z.number().int().min(1000).max(24 * 3_600_000).default(30 * 60_000),
  /** How long a request record is kept after it closed (answered or expired; seed 1: 1 h). */
  requestRetentionMs: z.number().int().min(60_000).max(30 * DAY).default(60 * 60_000),
  queues: z.array(QueueConfig).min(1).default([...DEFAULT_QUEUES]),
});
export type EngineSettings = z.infer<typeof EngineSettings>;
export type EngineSettingsInput = z.input<typeof EngineSettings>;

/** Where Redis is: a TCP URL (workers, local) or Upstash's REST URL and token (Lambda). */
export type RedisConnection =
  | { kind: "tcp"; url: string }
  | { kind: "upstash"; url: string; token: string };

export const ENV = {
  redisUrl: "WORKSTREAM_REDIS_URL",
  upstashUrl: "UPSTASH_REDIS_REST_URL",
  upstashToken: "UPSTASH_REDIS_REST_TOKEN",
  requireTls: "WORKSTREAM_REQUIRE_TLS",
  keyPrefix: "WORKSTREAM_KEY_PREFIX",
  retryMax: "WORKSTREAM_RETRY_MAX",
  claimIdleMs: "WORKSTREAM_CLAIM_IDLE_MS",
  jobTtlDays: "WORKSTREAM_JOB_TTL_DAYS",
  maxPayloadBytes: "WORKSTREAM_MAX_PAYLOAD_BYTES",
  dlqRetentionDays: "WORKSTREAM_DLQ_RETENTION_DAYS",
  requestTtlSeconds: "WORKSTREAM_REQUEST_TTL_SECONDS",
  requestRetentionSeconds: "WORKSTREAM_REQUEST_RETENTION_SECONDS",
  queueConfig: "WORKSTREAM_QUEUE_CONFIG",
} as const;

const intFrom = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .optional();

/** User-defined queues in WORKSTREAM_QUEUE_CONFIG: a JSON array; omitted fields take the `default` queue's values. */
const UserQueues = z.array(QueueConfig.partial().required({ name: true }));

export interface EnvConfig {
  connection: RedisConnection;
  settings: EngineSettings;
}

/**
 * Reads the engine's configuration from `env`. Throws a ConfigError naming the variable at fault.
 * `WORKSTREAM_REDIS_URL` wins when both it and the Upstash pair are set (workers prefer TCP).
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): EnvConfig {
  const read = envReader(env);

  const redisUrl = read(ENV.redisUrl, z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://").optional());
  const upstashUrl = read(ENV.upstashUrl, z.string().url().optional());
  const upstashToken = read(ENV.upstashToken, z.string().min(1).optional());
  // Deployed stages set it (infra/settings.ts): Redis traffic leaves AWS, so never in clear text.
  const requireTls = read(ENV.requireTls, z.enum(["true", "false"], "must be true or false").optional()) === "true";
  if (requireTls && redisUrl && !redisUrl.startsWith("rediss://")) {
    throw new ConfigError(`${ENV.redisUrl} must use TLS (rediss://) when ${ENV.requireTls}=true`, { variable: ENV.redisUrl });
  }
  if (requireTls && upstashUrl && !upstashUrl.startsWith("https://")) {
    throw new ConfigError(`${ENV.upstashUrl} must use https:// when ${ENV.requireTls}=true`, { variable: ENV.upstashUrl });
  }
  let connection: RedisConnection;
  if (redisUrl) connection = { kind: "tcp", url: redisUrl };
  else if (upstashUrl && upstashToken) connection = { kind: "upstash", url: upstashUrl, token: upstashToken };
  else if (upstashUrl) throw new ConfigError(`${ENV.upstashToken} is required with ${ENV.upstashUrl}`, { variable: ENV.upstashToken });
  else throw new ConfigError(`set ${ENV.redisUrl} (TCP) or ${ENV.upstashUrl} and ${ENV.upstashToken} (HTTP)`, { variable: ENV.redisUrl });

  const retryMax = read(ENV.retryMax, intFrom(ENV.retryMax));
  const jobTtlDays = read(ENV.jobTtlDays, intFrom(ENV.jobTtlDays));
  const dlqDays = read(ENV.dlqRetentionDays, intFrom(ENV.dlqRetentionDays));
  const requestTtlS = read(ENV.requestTtlSeconds, intFrom(ENV.requestTtlSeconds));
  const requestRetentionS = read(ENV.requestRetentionSeconds, intFrom(ENV.requestRetentionSeconds));
  const userQueuesRaw = env[ENV.queueConfig];
  let userQueues: z.infer<typeof UserQueues> = [];
  if (userQueuesRaw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(userQueuesRaw);
    } catch {
      throw new ConfigError(`${ENV.queueConfig} is not valid JSON`, { variable: ENV.queueConfig });
    }
    userQueues = read(ENV.queueConfig, z.any().transform(() => parsed).pipe(UserQueues));
  }
  const base = DEFAULT_QUEUES.map((q) => (retryMax === undefined ? q : { ...q, maxRetries: retryMax }));
  const fallback = base.find((q) => q.name === "default") ?? base[0]!;
  const merged = new Map(base.map((q) => [q.name, q]));
  for (const uq of userQueues) {
    merged.set(uq.name, { ...(merged.get(uq.name) ?? { ...fallback, rank: 100, retry: SEED2_BACKOFF }), ...uq } as QueueConfig);
  }

  const settings = EngineSettings.safeParse({
    keyPrefix: env[ENV.keyPrefix] || undefined,
    claimIdleMs: read(ENV.claimIdleMs, intFrom(ENV.claimIdleMs)),
    maxJobTtlMs: jobTtlDays === undefined ? undefined : jobTtlDays * DAY,
    maxPayloadBytes: read(ENV.maxPayloadBytes, intFrom(ENV.maxPayloadBytes)),
    dlqRetentionMs: dlqDays === undefined ? undefined : dlqDays * DAY,
    requestTtlMs: requestTtlS === undefined ? undefined : requestTtlS * 1000,
    requestRetentionMs: requestRetentionS === undefined ? undefined : requestRetentionS * 1000,
    queues: [...merged.values()],
  });
  if (!settings.success) {
    const issue = settings.error.issues[0];
    throw new ConfigError(`invalid configuration at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`, { path: issue?.path });
  }
  return { connection, settings: settings.data };
}
