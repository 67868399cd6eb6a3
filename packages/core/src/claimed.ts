/**
 * Decoding the flat replies of the hot-path scripts: enqueue.lua's outcomes, the jobs claim.lua and
 * ack.lua lease, and the ack outcomes.
 *
 * These replies are on every producer's and busy worker's path, so they are flat arrays
 * rather than JSON, and are checked here by hand rather than with zod: a per-item zod union over a
 * 100-job reply cost more than the rest of the decoding. The checks are the same a schema would
 * make (types, integer fields, known enums, exact widths), and a reply that fails them throws
 * ReplyShapeError naming the item, like a zod failure would.
 */
import { JOB_STATUSES, type JobStatus } from "./job.ts";
import { PERMISSION_LEVELS } from "./keys.ts";
import type { PermissionLevel, Priority } from "./messages.ts";

export interface ClaimedJob {
  id: string;
  queue: string;
  type: string;
  priority: Priority;
  permissionLevel: PermissionLevel;
  payload: unknown;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
  createdAt: string;
  /** The previous attempt's error, when this is a retry. */
  lastError: unknown;
}

export interface Lease {
  /** Fencing token: grows with every delivery of the job; heartbeat/ack/fail/release must present it. */
  token: number;
  expiresAt: number;
}

export interface Claimed {
  job: ClaimedJob;
  lease: Lease;
}

/** One ack's outcome inside a batch (ack.lua replies five items per ack). */
export type AckOutcome =
  | { ok: true; durationMs: number; queue: string; attempts: number; callbackUrl: string | null }
  | { ok: false; code: "lease_lost"; status: string | null }
  | { ok: false; code: "job_not_found" };

/** A claim/ack reply that does not have the shape the scripts promise (a bug or a foreign script). */
export class ReplyShapeError extends Error {
  constructor(script: string, what: string) {
    super(`${script} reply: ${what}`);
    this.name = "ReplyShapeError";
  }
}

/** Items per leased job; must match CLAIMED_WIDTH in lua/includes/claim_core.lua. */
export const CLAIMED_WIDTH = 13;
/** Items per ack outcome in ack.lua's reply. */
export const ACK_WIDTH = 5;

/** enqueue.lua's reply: each job's status and whether it was created, or why nothing was written. */
export type EnqueueReply =
  | { ok: true; jobs: Array<{ status: JobStatus; created: boolean; queue: string }> }
  | { ok: false; code: "job_not_found" | "dependency_failed" | "self_dependency"; id: string; status: string };

const ENQUEUE_ERRORS: ReadonlySet<string> = new Set(["job_not_found", "dependency_failed", "self_dependency"]);
const STATUSES: ReadonlySet<string> = new Set(JOB_STATUSES);

const PRIORITIES: ReadonlySet<string> = new Set(["critical", "high", "normal", "low"]);
const LEVELS: ReadonlySet<string> = new Set(PERMISSION_LEVELS);

type Flat = readonly unknown[];

function str(flat: Flat, i: number, script: string): string {
  const v = flat[i];
  if (typeof v !== "string") throw new ReplyShapeError(script, `item ${i} should be a string, got ${typeof v}`);
  return v;
}

/** An integer: Lua replies numbers as integers, and fields read from hashes as decimal strings. */
function int(flat: Flat, i: number, script: string): number {
  const v = flat[i];
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ReplyShapeError(script, `item ${i} should be an integer, got ${JSON.stringify(v)}`);
  return n;
}

function json(text: string, what: string, script: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ReplyShapeError(script, `${what} is not JSON`);
  }
}

/** The flat array itself. */
export function flatReply(raw: unknown, script: string): Flat {
  if (!Array.isArray(raw)) throw new ReplyShapeError(script, `expected an array, got ${typeof raw}`);
  return raw;
}

/** Reads enqueue.lua's reply for `expected` jobs (three items each: status, created, queue). */
export function readEnqueueReply(raw: unknown, expected: number): EnqueueReply {
  const flat = flatReply(raw, "enqueue");
  if (flat[0] === "error") {
    const code = str(flat, 1, "enqueue");
    if (!ENQUEUE_ERRORS.has(code) || flat.length !== 4) throw new ReplyShapeError("enqueue", `unknown error reply ${JSON.stringify(flat)}`);
    return { ok: false, code: code as "job_not_found" | "dependency_failed" | "self_dependency", id: str(flat, 2, "enqueue"), status: str(flat, 3, "enqueue") };
  }
  if (flat[0] !== "ok" || flat.length !== 1 + 3 * expected) throw new ReplyShapeError("enqueue", `has ${flat.length} items, expected ok and ${3 * expected}`);
  const jobs = new Array<{ status: JobStatus; created: boolean; queue: string }>(expected);
  for (let k = 0, i = 1; k < expected; k++, i += 3) {
    const status = str(flat, i, "enqueue");
    if (!STATUSES.has(status)) throw new ReplyShapeError("enqueue", `item ${i}: unknown job status "${status}"`);
    jobs[k] = { status: status as JobStatus, created: int(flat, i + 1, "enqueue") === 1, queue: str(flat, i + 2, "enqueue") };
  }
  return { ok: true, jobs };
}

/**
 * Reads the leased jobs from index `at`: a count, then CLAIMED_WIDTH items per job, followed by
 * exactly `trailing` more items (what the caller reads next).
 */
export function readClaimed(flat: Flat, at: number, script: string, trailing: (n: number) => number = () => 0): Claimed[] {
  const n = int(flat, at, script);
  const expected = at + 1 + Math.max(0, n) * CLAIMED_WIDTH + (n < 0 ? 0 : trailing(n));
  if (n < 0 || flat.length !== expected) throw new ReplyShapeError(script, `has ${flat.length} items, expected ${expected} for ${n} jobs`);
  const out: Claimed[] = new Array<Claimed>(n);
  for (let k = 0, i = at + 1; k < n; k++, i += CLAIMED_WIDTH) {
    const level = str(flat, i + 2, script);
    const priority = str(flat, i + 6, script);
    if (!LEVELS.has(level)) throw new ReplyShapeError(script, `item ${i + 2}: unknown permission level "${level}"`);
    if (!PRIORITIES.has(priority)) throw new ReplyShapeError(script, `item ${i + 6}: unknown priority "${priority}"`);
    const lastError = str(flat, i + 12, script);
    const attempt = int(flat, i + 5, script);
    const type = str(flat, i + 7, script);
    const payload = json(str(flat, i + 8, script), `item ${i + 8} (payload)`, script);
    out[k] = {
      job: {
        id: str(flat, i, script),
        queue: str(flat, i + 1, script),
        permissionLevel: level as PermissionLevel,
        attempt,
        priority: priority as Priority,
        type,
        payload: type === "work_order" ? withRetryCount(payload, attempt) : payload,
        maxAttempts: int(flat, i + 9, script),
        createdAt: str(flat, i + 10, script),
        timeoutMs: int(flat, i + 11, script),
        lastError: lastError === "" ? null : json(lastError, `item ${i + 12} (error)`, script),
      },
      lease: { token: int(flat, i + 3, script), expiresAt: int(flat, i + 4, script) },
    };
  }
  return out;
}

/**
 * Seed 1's WorkOrder counts its retries in `retry_count`. The stored message keeps the count it was
 * enqueued with; the delivered one adds the retries made here (attempt 2 is the first retry).
 */
function withRetryCount(payload: unknown, attempt: number): unknown {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return payload;
  const count = (payload as { retry_count?: unknown }).retry_count;
  if (typeof count !== "number" || !Number.isInteger(count) || attempt <= 1) return payload;
  return { ...payload, retry_count: count + attempt - 1 };
}

/** Reads `n` ack outcomes from the start of ack.lua's reply. */
export function readAckOutcomes(flat: Flat, n: number): AckOutcome[] {
  const script = "ack";
  if (flat.length < n * ACK_WIDTH + 1) throw new ReplyShapeError(script, `has ${flat.length} items, expected at least ${n * ACK_WIDTH + 1}`);
  const out: AckOutcome[] = new Array<AckOutcome>(n);
  for (let k = 0; k < n; k++) {
    const i = k * ACK_WIDTH;
    const code = str(flat, i, script);
    if (code === "ok") {
      const url = str(flat, i + 4, script);
      out[k] = { ok: true, durationMs: int(flat, i + 1, script), queue: str(flat, i + 2, script), attempts: int(flat, i + 3, script), callbackUrl: url || null };
    } else if (code === "lease_lost") {
      out[k] = { ok: false, code, status: str(flat, i + 1, script) || null };
    } else if (code === "job_not_found") {
      out[k] = { ok: false, code };
    } else {
      throw new ReplyShapeError(script, `item ${i}: unknown outcome "${code}"`);
    }
  }
  return out;
}
