/**
 * Outbound HTTP from the queue: job outcome callbacks, DLQ alerts and push-mode deliveries. All of
 * it goes through one small `Notifier` interface with two implementations: QStash in the cloud
 * (durable, retried, signed, deduplicated) and plain HTTP locally. The message bodies are defined
 * here as zod schemas so receivers (the HTTP worker endpoint, tests, users) parse the same shapes.
 */
import { z } from "zod";

/** One message to deliver: a JSON body POSTed to `url`. */
export interface Delivery {
  url: string;
  body: unknown;
  /** The same id is delivered at most once (QStash keeps ids for 90 days; the HTTP notifier per process). */
  deduplicationId: string;
  /** How often the destination is retried when it fails (QStash `Upstash-Retries`). */
  retries?: number;
  /** Not before this time (ms since the epoch). */
  notBefore?: number;
  /** At most `parallelism` deliveries with the same key are in flight at once (QStash flow control). */
  flowControl?: { key: string; parallelism: number };
  /** Extra headers for the destination (QStash forwards them as `Upstash-Forward-*`). */
  headers?: Record<string, string>;
}

export type DeliveryResult =
  | { ok: true; messageId: string | null; deduplicated: boolean }
  | { ok: false; error: string; status: number | null };

export interface Notifier {
  readonly kind: "qstash" | "http";
  /** Hands a message over for delivery. Never throws: a failure is a value (and was retried where that makes sense). */
  deliver(delivery: Delivery): Promise<DeliveryResult>;
}

/** Headers every delivery carries, so a receiver can tell events apart and drop duplicates. */
export const EVENT_HEADER = "Workstream-Event";
export const DELIVERY_ID_HEADER = "Workstream-Delivery-Id";

export const OUTCOMES = ["completed", "failed", "dead_lettered"] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** A job error as sent in callbacks and alerts: no stack trace (it stays in the job record). */
export const BriefError = z.object({ name: z.string(), message: z.string(), code: z.string().optional() });
export type BriefError = z.infer<typeof BriefError>;

/**
 * POSTed to a job's `callback_url` once per outcome: `completed` (with `result`), `failed`
 * (a non-retryable error: the job went to the DLQ at once) or `dead_lettered` (retries exhausted or
 * its last lease expired), both with `error`.
 */
export const OutcomeMessage = z.object({
  jobId: z.string(),
  queue: z.string(),
  outcome: Outcome,
  result: z.unknown().optional(),
  error: BriefError.optional(),
  attempts: z.number().int().min(0),
  finishedAt: z.string(),
});
export type OutcomeMessage = z.infer<typeof OutcomeMessage>;

/** POSTed to WORKSTREAM_DLQ_WEBHOOK_URL once per new DLQ entry. */
export const DlqAlertMessage = z.object({
  type: z.literal("dlq_entry"),
  jobId: z.string(),
  queue: z.string(),
  reason: z.string(),
  attempts: z.number().int().min(0),
  error: BriefError,
  deadLetteredAt: z.string(),
});
export type DlqAlertMessage = z.infer<typeof DlqAlertMessage>;

/**
 * Push mode: POSTed (through QStash, with flow control) to a push queue's URL. It tells the
 * serverless HTTP worker there is work in `queue`; the worker claims from that queue (the job named
 * may have been taken by another delivery: claiming whatever is next is correct). `jobId` is null
 * for the maintenance nudge that re-announces work left waiting.
 */
export const PushMessage = z.object({
  jobId: z.string().nullable(),
  queue: z.string(),
  reason: z.enum(["enqueued", "retry", "nudge"]),
});
export type PushMessage = z.infer<typeof PushMessage>;
