/**
 * Browsing a queue's jobs by state (the dashboard's job lists, `GET /v1/jobs`, `workstream jobs`):
 * one page read from the index the state lives in (jobs_list.lua), never a scan of job records.
 */
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { ValidationError } from "./errors.ts";
import { JobError, JobStatus } from "./job.ts";
import { PermissionLevel, Priority } from "./messages.ts";
import { validate } from "./validate.ts";

/** The states a list can show, each read from its own index (see jobs_list.lua). */
export const LISTABLE_STATES = ["pending", "active", "scheduled", "deferred", "completed", "failed"] as const;
export const ListableState = z.enum(LISTABLE_STATES);
export type ListableState = z.infer<typeof ListableState>;

export const ListJobsOptions = z
  .object({
    queue: z.string().min(1).max(64),
    /**
     * `active` lists leased jobs (active, or waiting on an answer); `scheduled`, delayed starts and
     * retries waiting out their backoff; `failed`, failed for good (the failed registry).
     */
    state: ListableState,
    limit: z.number().int().min(1).max(100).default(50),
    /** From a previous page's nextCursor. */
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListJobsOptions = z.input<typeof ListJobsOptions>;

/** A job as a list row: what it is and where it stands, without payload, result or history. */
export interface JobSummary {
  id: string;
  queue: string;
  status: JobStatus;
  type: string;
  priority: Priority;
  permissionLevel: PermissionLevel;
  attempts: number;
  maxAttempts: number;
  createdAt: string | null;
  enqueuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** When a scheduled job (a delayed start) or a retrying one (its backoff) is due. */
  runAt: string | null;
  worker: string | null;
  /** The last error's name and message (stack: getJob). */
  error: { name: string; message: string } | null;
}

export interface JobPage {
  jobs: JobSummary[];
  /** Pass back as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

const SUMMARY_WIDTH = 14;
const LuaSummary = z.tuple([
  z.string(), JobStatus, z.string(), Priority, PermissionLevel, z.string(), z.string(),
  z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(),
]);

const msTime = (v: string) => (/^\d+$/.test(v) && Number(v) > 0 ? new Date(Number(v)).toISOString() : null);

function briefError(raw: string): JobSummary["error"] {
  if (raw === "") return null;
  try {
    const e = JobError.parse(JSON.parse(raw));
    return { name: e.name, message: e.message.slice(0, 500) };
  } catch {
    return { name: "Error", message: "(unreadable error record)" };
  }
}

export async function listJobs(ctx: EngineContext, input: ListJobsOptions): Promise<JobPage> {
  const o = validate(ListJobsOptions, input, "");
  const queue = ctx.queues.get(o.queue); // UnknownQueueError for a queue that is not configured
  const cursor = o.cursor === undefined ? "" : decodeCursor(o.cursor, queue.name, o.state);
  const window = o.state === "completed" ? queue.resultTtlMs : o.state === "failed" ? queue.failureTtlMs : 0;
  const oldest = window > 0 ? Math.max(0, ctx.now() - Math.min(window, ctx.settings.maxJobTtlMs)) : 0;
  const raw = await ctx.runRaw("jobs_list", [queue.name, o.state, o.limit, cursor, oldest]);
  if (!Array.isArray(raw) || typeof raw[0] !== "string" || (raw.length - 1) % SUMMARY_WIDTH !== 0) {
    throw new Error(`jobs_list replied with an unexpected shape (${Array.isArray(raw) ? raw.length : typeof raw} items)`);
  }
  const jobs: JobSummary[] = [];
  for (let i = 1; i < raw.length; i += SUMMARY_WIDTH) {
    const [id, status, type, priority, level, attempts, maxAttempts, createdAt, enqueuedAt, startedAt, finishedAt, runAt, worker, error] =
      LuaSummary.parse(raw.slice(i, i + SUMMARY_WIDTH));
    jobs.push({
      id,
      queue: queue.name,
      status,
      type: type || "job",
      priority,
      permissionLevel: level,
      attempts: Number(attempts) || 0,
      maxAttempts: Number(maxAttempts) || 1,
      createdAt: createdAt || null,
      enqueuedAt: msTime(enqueuedAt),
      startedAt: msTime(startedAt),
      finishedAt: msTime(finishedAt),
      runAt: status === "scheduled" || status === "retrying" ? msTime(runAt) : null,
      worker: worker || null,
      error: briefError(error),
    });
  }
  return { jobs, nextCursor: raw[0] === "" ? null : Buffer.from(`${queue.name}\n${o.state}\n${raw[0]}`, "utf8").toString("base64url") };
}

/**
 * A cursor names its list (queue and state) and the position in it: a stream entry for pending and
 * active ('<level>:<entry id>'), a score and job id for the sorted sets. One from another list is
 * refused rather than read as a position in this one.
 */
function decodeCursor(cursor: string, queue: string, state: ListableState): string {
  const [cq, cs, position, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split("\n");
  // stream entry ids within what Redis accepts; sorted-set positions as score (ms) and job id
  const shape = state === "pending" || state === "active" ? /^[1-3]:\d{1,15}-\d{1,18}$/ : /^\d{1,16}:\S{1,128}$/;
  if (cq !== queue || cs !== state || rest.length > 0 || position === undefined || !shape.test(position)) {
    throw new ValidationError("cursor: not a cursor from a previous page of this list", { path: ["cursor"] });
  }
  return position;
}
