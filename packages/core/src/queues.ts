/**
 * Queue definitions: the seed's three work queues with their defaults, user-defined queues, and
 * the priority → queue mapping. A queue's settings are copied onto each job at enqueue time, so
 * changing a queue affects new jobs only and scripts never need the configuration.
 */
import { z } from "zod";
import { UnknownQueueError } from "./errors.ts";
import type { Priority } from "./messages.ts";
import { RetryPolicy, SEED2_BACKOFF } from "./retry.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Queue names become Redis keys and URL segments: keep them short and plain. */
export const QueueName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_\-]*$/, "queue names are lower-case letters, digits, _ and -, starting with a letter or digit");

export const QueueConfig = z.object({
  name: QueueName,
  /** Claim order: lower ranks are drained first (high_priority 0, default 10, low_priority 20). */
  rank: z.number().int().min(0).max(1000),
  /** Longest a job may wait to start before it expires (0 = never). */
  ttlMs: z.number().int().min(0),
  /** Longest a job may run; also the lease length when the claimer asks for none. */
  timeoutMs: z.number().int().positive(),
  /** Retries after the first attempt; max attempts = maxRetries + 1. */
  maxRetries: z.number().int().min(0).max(100),
  /** How long a completed job's record and result are kept. */
  resultTtlMs: z.number().int().positive(),
  /** How long a failed job stays in the failed registry (its record stays while it is in the DLQ). */
  failureTtlMs: z.number().int().positive(),
  retry: RetryPolicy,
});
export type QueueConfig = z.infer<typeof QueueConfig>;
export type QueueConfigInput = z.input<typeof QueueConfig>;

export const DEFAULT_QUEUES: readonly QueueConfig[] = [
  { name: "high_priority", rank: 0, ttlMs: 1 * HOUR, timeoutMs: 3600_000, maxRetries: 3, resultTtlMs: DAY, failureTtlMs: 7 * DAY, retry: SEED2_BACKOFF },
  { name: "default", rank: 10, ttlMs: 2 * HOUR, timeoutMs: 7200_000, maxRetries: 3, resultTtlMs: DAY, failureTtlMs: 7 * DAY, retry: SEED2_BACKOFF },
  { name: "low_priority", rank: 20, ttlMs: 4 * HOUR, timeoutMs: 14_400_000, maxRetries: 2, resultTtlMs: 12 * HOUR, failureTtlMs: 7 * DAY, retry: SEED2_BACKOFF },
];

/** The seed's mapping: critical and high → high_priority, normal → default, low → low_priority. */
export function queueForPriority(priority: Priority): string {
  switch (priority) {
    case "critical":
    case "high":
      return "high_priority";
    case "normal":
      return "default";
    case "low":
      return "low_priority";
  }
}

/** The configured queues, by name and in claim order. */
export class QueueRegistry {
  private readonly byName: ReadonlyMap<string, QueueConfig>;
  readonly ordered: readonly QueueConfig[];

  constructor(queues: readonly QueueConfig[]) {
    this.ordered = [...queues].sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
    this.byName = new Map(this.ordered.map((q) => [q.name, q]));
  }

  get names(): string[] {
    return this.ordered.map((q) => q.name);
  }

  get(name: string): QueueConfig {
    const q = this.byName.get(name);
    if (!q) throw new UnknownQueueError(name, this.names);
    return q;
  }

  /** Validates a claimer's queue list and returns it in strict priority order. */
  claimOrder(names?: readonly string[]): QueueConfig[] {
    if (!names || names.length === 0) return [...this.ordered];
    const picked = new Set(names.map((n) => this.get(n).name));
    return this.ordered.filter((q) => picked.has(q.name));
  }
}
