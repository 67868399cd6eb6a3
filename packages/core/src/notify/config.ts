/**
 * Notification settings from the environment, parsed once at cold start; errors name the variable.
 *
 *   WORKSTREAM_NOTIFY_MODE       "qstash" | "http" | "off" (default: "qstash" when QSTASH_TOKEN is set, else "http")
 *   QSTASH_TOKEN                 QStash API token (required for mode "qstash")
 *   QSTASH_URL                   QStash API base URL (default https://qstash.upstash.io)
 *   QSTASH_CURRENT_SIGNING_KEY   verifies inbound QStash calls (with the next key)
 *   QSTASH_NEXT_SIGNING_KEY      the key QStash rotates to; both are required together
 *   WORKSTREAM_DLQ_WEBHOOK_URL   optional: gets one message per new DLQ entry
 *   WORKSTREAM_PUSH_QUEUES       optional JSON: {"<queue>": {"url": "https://…", "parallelism": 5, "retries": 3}}
 *   WORKSTREAM_NOTIFY_RETRIES    destination retries per message (QStash Upstash-Retries; default 3)
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { QueueName } from "../queues.ts";
import { httpNotifier } from "./http.ts";
import type { Notifier } from "./notifier.ts";
import { qstashNotifier } from "./qstash.ts";

export const NOTIFY_ENV = {
  mode: "WORKSTREAM_NOTIFY_MODE",
  qstashToken: "QSTASH_TOKEN",
  qstashUrl: "QSTASH_URL",
  currentSigningKey: "QSTASH_CURRENT_SIGNING_KEY",
  nextSigningKey: "QSTASH_NEXT_SIGNING_KEY",
  dlqWebhookUrl: "WORKSTREAM_DLQ_WEBHOOK_URL",
  pushQueues: "WORKSTREAM_PUSH_QUEUES",
  retries: "WORKSTREAM_NOTIFY_RETRIES",
} as const;

const HttpUrl = z.string().url().regex(/^https?:\/\//, "must be an http(s) URL");

export const PushQueueConfig = z.object({
  /** Where each delivery is POSTed: the serverless HTTP worker's endpoint. */
  url: HttpUrl,
  /** Most deliveries in flight at once for this queue (QStash flow control). */
  parallelism: z.number().int().min(1).max(1000).default(1),
  /** Destination retries per delivery (default WORKSTREAM_NOTIFY_RETRIES). */
  retries: z.number().int().min(0).max(100).optional(),
});
export type PushQueueConfig = z.infer<typeof PushQueueConfig>;

export const PushQueues = z.record(QueueName, PushQueueConfig);

export interface NotifyConfig {
  mode: "qstash" | "http" | "off";
  qstash: { token: string; baseUrl: string | null } | null;
  signingKeys: { current: string; next: string } | null;
  dlqWebhookUrl: string | null;
  pushQueues: Record<string, PushQueueConfig>;
  retries: number;
}

export function notifyConfigFromEnv(env: Record<string, string | undefined> = process.env): NotifyConfig {
  const get = (name: string) => (env[name] === "" ? undefined : env[name]);
  const read = <T>(name: string, schema: z.ZodType<T>, value: unknown = get(name)): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new ConfigError(`${name}: ${r.error.issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ")}`, { variable: name });
    return r.data;
  };
  const token = read(NOTIFY_ENV.qstashToken, z.string().min(1).optional());
  const baseUrl = read(NOTIFY_ENV.qstashUrl, HttpUrl.optional());
  const mode = read(NOTIFY_ENV.mode, z.enum(["qstash", "http", "off"]).optional()) ?? (token ? "qstash" : "http");
  if (mode === "qstash" && !token) throw new ConfigError(`${NOTIFY_ENV.qstashToken} is required when ${NOTIFY_ENV.mode}=qstash`, { variable: NOTIFY_ENV.qstashToken });
  const current = read(NOTIFY_ENV.currentSigningKey, z.string().min(1).optional());
  const next = read(NOTIFY_ENV.nextSigningKey, z.string().min(1).optional());
  if ((current === undefined) !== (next === undefined)) {
    const missing = current === undefined ? NOTIFY_ENV.currentSigningKey : NOTIFY_ENV.nextSigningKey;
    throw new ConfigError(`${missing} is required: set both QStash signing keys or neither`, { variable: missing });
  }
  const retries = read(NOTIFY_ENV.retries, z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().max(100)).optional()) ?? 3;
  let pushRaw: unknown = {};
  const pushText = get(NOTIFY_ENV.pushQueues);
  if (pushText !== undefined) {
    try {
      pushRaw = JSON.parse(pushText);
    } catch {
      throw new ConfigError(`${NOTIFY_ENV.pushQueues} is not valid JSON`, { variable: NOTIFY_ENV.pushQueues });
    }
  }
  return {
    mode,
    qstash: token ? { token, baseUrl: baseUrl ?? null } : null,
    signingKeys: current && next ? { current, next } : null,
    dlqWebhookUrl: read(NOTIFY_ENV.dlqWebhookUrl, HttpUrl.optional()) ?? null,
    pushQueues: read(NOTIFY_ENV.pushQueues, PushQueues, pushRaw),
    retries,
  };
}

/** The notifier a configuration names, or null when notifications are off. */
export function createNotifier(config: NotifyConfig): Notifier | null {
  if (config.mode === "off") return null;
  if (config.mode === "qstash" && config.qstash) {
    return qstashNotifier({ token: config.qstash.token, ...(config.qstash.baseUrl ? { baseUrl: config.qstash.baseUrl } : {}) });
  }
  return httpNotifier();
}
