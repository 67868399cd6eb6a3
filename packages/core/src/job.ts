/**
 * The job record as callers see it, parsed (with zod) from the Redis hash the scripts maintain.
 */
import { z } from "zod";
import { PermissionLevel, Priority } from "./messages.ts";

export const JOB_STATUSES = [
  "deferred", // waiting for the jobs it depends on to complete
  "pending", // ready, waiting for a worker
  "scheduled", // delayed until run_at (or released with a delay)
  "active", // leased by a worker
  "waiting", // leased, its worker waits for a controller's answer
  "retrying", // failed, waiting out its backoff before it is pending again
  "completed",
  "failed", // failed for good; in the dead-letter queue until replayed or purged
  "expired", // its queue TTL passed before it started
  "cancelled",
] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["completed", "failed", "expired", "cancelled"]);

export const JobError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().nullable().optional(),
  code: z.string().optional(),
});
export type JobError = z.infer<typeof JobError>;

export const HistoryEntry = z.object({
  at: z.string(),
  status: z.string(),
  attempt: z.number().optional(),
  worker: z.string().optional(),
  error: z.string().optional(),
  reason: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

const RawHistory = z.array(
  z.object({ t: z.number(), s: z.string(), a: z.number().optional(), w: z.string().optional(), e: z.string().optional(), r: z.string().optional() }),
);

export interface Job {
  id: string;
  queue: string;
  type: string;
  priority: Priority;
  permissionLevel: PermissionLevel;
  status: JobStatus;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  createdAt: string;
  enqueuedAt: string;
  readyAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  worker: string | null;
  leaseToken: number;
  leaseExpiresAt: string | null;
  progress: unknown;
  result: unknown;
  error: JobError | null;
  deadLetter: { at: string; reason: string } | null;
  cancelReason: string | null;
  callbackUrl: string | null;
  history: HistoryEntry[];
  /** When the record itself will be deleted (result/failure TTL), or null while it is kept. */
  expiresAt: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const optMs = z
  .string()
  .optional()
  .transform((s) => (s && /^\d+$/.test(s) ? iso(Number(s)) : null));
const int = z.string().regex(/^-?\d+$/).transform(Number);
const json = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s === "") return null;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "not JSON" });
      return z.NEVER;
    }
  });

/** The hash as stored (every value a string), validated field by field. */
const JobHash = z.object({
  id: z.string(),
  queue: z.string(),
  type: z.string(),
  priority: Priority,
  level: PermissionLevel,
  status: JobStatus,
  payload: json,
  attempts: int,
  max_attempts: int,
  timeout_ms: int,
  created_at: z.string(),
  enqueued_at: int,
  ready_at: optMs,
  started_at: optMs,
  finished_at: optMs,
  next_attempt_at: optMs,
  worker: z.string().optional(),
  token: int,
  lease_until: optMs,
  progress: json,
  result: json,
  error: json.pipe(JobError.nullable()),
  dlq_at: optMs,
  dlq_reason: z.string().optional(),
  cancel_reason: z.string().optional(),
  callback_url: z.string().optional(),
  history: json.pipe(RawHistory.nullable()),
});

/** Parses a job hash (HGETALL as [k, v, …]) and its PTTL into a Job. Throws if Redis holds something malformed. */
export function parseJobHash(flat: readonly string[], pttlMs: number, nowMs: number): Job {
  const raw: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) raw[flat[i]!] = flat[i + 1]!;
  const h = JobHash.parse(raw);
  return {
    id: h.id,
    queue: h.queue,
    type: h.type,
    priority: h.priority,
    permissionLevel: h.level,
    status: h.status,
    payload: h.payload,
    attempts: h.attempts,
    maxAttempts: h.max_attempts,
    timeoutMs: h.timeout_ms,
    createdAt: h.created_at,
    enqueuedAt: iso(h.enqueued_at),
    readyAt: h.ready_at,
    startedAt: h.started_at,
    finishedAt: h.finished_at,
    nextAttemptAt: h.next_attempt_at,
    worker: h.worker || null,
    leaseToken: h.token,
    leaseExpiresAt: h.lease_until,
    progress: h.progress,
    result: h.result,
    error: h.error,
    deadLetter: h.dlq_at ? { at: h.dlq_at, reason: h.dlq_reason ?? "unknown" } : null,
    cancelReason: h.cancel_reason || null,
    callbackUrl: h.callback_url || null,
    history: (h.history ?? []).map((e) => ({
      at: iso(e.t),
      status: e.s,
      ...(e.a !== undefined && { attempt: e.a }),
      ...(e.w !== undefined && { worker: e.w }),
      ...(e.e !== undefined && { error: e.e }),
      ...(e.r !== undefined && { reason: e.r }),
    })),
    expiresAt: pttlMs > 0 ? iso(nowMs + pttlMs) : null,
  };
}
