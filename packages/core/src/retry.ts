/**
 * Retry policies and error classification.
 *
 * The delay itself is computed inside the fail/reclaim scripts (so a retry is scheduled in the
 * same atomic step that records the failure); `retryDelayMs` here is the same formula in
 * TypeScript, used by tests and docs, and `encodeRetryPolicy` is the compact form the job record
 * carries so scripts need no queue configuration.
 */
import { z } from "zod";
import { NonRetryableError, RetryAfterError } from "./errors.ts";

export const ExponentialRetry = z.object({
  kind: z.literal("exponential"),
  /** First retry delay (seed 2: 1 s). */
  baseMs: z.number().int().min(0).max(86_400_000).default(1000),
  /** Delay multiplier per attempt (seed 2: 2). */
  factor: z.number().min(1).max(10).default(2),
  /** Cap on any delay (seed 2: 300 s). */
  maxMs: z.number().int().min(0).max(7 * 86_400_000).default(300_000),
  /** Random spread as a fraction of the delay (seed 2: ±20 %). */
  jitter: z.number().min(0).max(1).default(0.2),
});

export const FixedRetry = z.object({
  kind: z.literal("fixed"),
  /** Delay before retry n is intervalsMs[n-1]; the last one repeats (seed 1: 60, 180, 600 s). */
  intervalsMs: z.array(z.number().int().min(0).max(7 * 86_400_000)).min(1).max(100),
});

export const RetryPolicy = z.discriminatedUnion("kind", [ExponentialRetry, FixedRetry]);
export type RetryPolicy = z.infer<typeof RetryPolicy>;
export type RetryPolicyInput = z.input<typeof RetryPolicy>;

export const SEED2_BACKOFF: RetryPolicy = { kind: "exponential", baseMs: 1000, factor: 2, maxMs: 300_000, jitter: 0.2 };
export const SEED1_INTERVALS: RetryPolicy = { kind: "fixed", intervalsMs: [60_000, 180_000, 600_000] };

/** Compact form stored on the job record and parsed by `lua/includes/retry.lua`. */
export function encodeRetryPolicy(p: RetryPolicy): string {
  return p.kind === "exponential"
    ? `exp:${p.baseMs}:${p.factor}:${p.maxMs}:${p.jitter}`
    : `fixed:${p.intervalsMs.join(",")}`;
}

export function decodeRetryPolicy(s: string): RetryPolicy {
  const [kind, ...rest] = s.split(":");
  if (kind === "fixed") return { kind: "fixed", intervalsMs: (rest[0] ?? "").split(",").map(Number) };
  const [baseMs, factor, maxMs, jitter] = rest.map(Number);
  return RetryPolicy.parse({ kind: "exponential", baseMs, factor, maxMs, jitter });
}

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based).
 * `jitter` is a uniform random number in [-1, 1]; the result stays within the cap.
 */
export function retryDelayMs(p: RetryPolicy, attempt: number, jitter: number): number {
  if (p.kind === "fixed") return p.intervalsMs[Math.min(attempt, p.intervalsMs.length) - 1] ?? 0;
  const raw = p.baseMs * p.factor ** (attempt - 1);
  return Math.floor(Math.min(p.maxMs, raw * (1 + jitter * p.jitter)));
}

/**
 * Names of errors that retrying cannot fix: seed 2's list as Python names it (ValueError, TypeError,
 * KeyError: HTTP workers in any language report their errors by name) and in its JavaScript
 * spelling.
 */
const NON_RETRYABLE_NAMES = new Set(["NonRetryableError", "ValidationError", "TypeError", "RangeError", "SyntaxError", "ZodError", "ValueError", "KeyError"]);
const NON_RETRYABLE_WORDS = /\b(invalid|not found|validation)\b/i;

/**
 * Seed 2's classification: type and argument errors and messages saying "invalid", "not found" or
 * "validation" are permanent; connection problems, timeouts and everything else are retried.
 */
export function isRetryable(error: { name?: string; message?: string }): boolean {
  if (error.name && NON_RETRYABLE_NAMES.has(error.name)) return false;
  return !NON_RETRYABLE_WORDS.test(error.message ?? "");
}

export interface ClassifiedError {
  name: string;
  message: string;
  stack: string | null;
  retryable: boolean;
  retryAfterMs: number | null;
}

/** Turns whatever a handler threw into the error record the engine stores. */
export function classifyError(thrown: unknown): ClassifiedError {
  if (thrown instanceof RetryAfterError) {
    return { name: thrown.name, message: thrown.message, stack: thrown.stack ?? null, retryable: true, retryAfterMs: thrown.retryAfterMs };
  }
  if (thrown instanceof NonRetryableError) {
    return { name: thrown.name, message: thrown.message, stack: thrown.stack ?? null, retryable: false, retryAfterMs: null };
  }
  if (thrown instanceof Error) {
    return { name: thrown.name, message: thrown.message, stack: thrown.stack ?? null, retryable: isRetryable(thrown), retryAfterMs: null };
  }
  const message = typeof thrown === "string" ? thrown : JSON.stringify(thrown) ?? String(thrown);
  return { name: "Error", message, stack: null, retryable: isRetryable({ message }), retryAfterMs: null };
}
