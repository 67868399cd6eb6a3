/**
 * Recurring schedules: a cron expression (UTC) and the job to enqueue at each run.
 *
 * Each schedule is stored as JSON in `P schedules` with its next run in `P schedules:due`. The
 * maintenance tick (every minute in the cloud, every 5 s locally) reports when a run is due, and
 * `fireSchedules` enqueues it: one script (schedule_fire.lua) enqueues the run's job — its id is
 * `<name>:<run ms>`, so firing the same run twice finds the job instead of making another — and
 * moves the schedule to its next run. Runs missed while nothing ticked (an outage) are not
 * replayed one by one: the first missed run fires, late, and the schedule continues with its
 * next run after now.
 */
import { z } from "zod";
import type { EngineContext } from "./context.ts";
import { nextRun, parseCron } from "./cron.ts";
import { WorkstreamError } from "./errors.ts";
import { ScheduledJobTemplate, type EnqueueRequestInput, type ScheduledJobTemplateInput } from "./enqueue-request.ts";
import { JobStatus } from "./job.ts";
import { validate } from "./validate.ts";

export const ScheduleName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "schedule names start with a letter or digit and may contain letters, digits and . _ - only");

export const ScheduleInput = z
  .object({
    name: ScheduleName,
    /** Five-field cron expression in UTC, or a macro such as @daily. */
    cron: z.string().min(1).max(200),
    job: ScheduledJobTemplate,
  })
  .strict();
export type ScheduleInput = { name: string; cron: string; job: ScheduledJobTemplateInput };

export interface Schedule {
  name: string;
  cron: string;
  /** The job each run enqueues (its id is `<name>:<run ms>`). */
  job: ScheduledJobTemplate;
  createdAt: string;
  nextRunAt: string;
  lastRunAt: string | null;
  lastJobId: string | null;
  runs: number;
}

/** The stored record. The job template is kept as a JSON string: Lua rewrites the record and must not re-encode the payload. */
const Stored = z.object({
  name: z.string(),
  cron: z.string(),
  job: z.string(),
  createdAt: z.number(),
  nextRunAt: z.number(),
  lastRunAt: z.number().nullable().optional(),
  lastJobId: z.string().nullable().optional(),
  runs: z.number().optional(),
});
type Stored = z.infer<typeof Stored>;

export class ScheduleNotFoundError extends WorkstreamError {
  constructor(name: string) {
    super("schedule_not_found", `schedule "${name}" does not exist`, { name });
  }
}

function view(s: Stored): Schedule {
  return {
    name: s.name,
    cron: s.cron,
    job: ScheduledJobTemplate.parse(JSON.parse(s.job)),
    createdAt: new Date(s.createdAt).toISOString(),
    nextRunAt: new Date(s.nextRunAt).toISOString(),
    lastRunAt: s.lastRunAt ? new Date(s.lastRunAt).toISOString() : null,
    lastJobId: s.lastJobId ?? null,
    runs: s.runs ?? 0,
  };
}

interface Listed {
  name: string;
  /** null: an index entry without its schedule; an Error: a record that does not read (edited by hand). */
  stored: Stored | null | Error;
  due: number;
}

/** The record, or the reason it does not read: one bad record must not hide or stop the others. */
function parseStored(json: string): Stored | Error {
  try {
    const s = Stored.parse(JSON.parse(json));
    ScheduledJobTemplate.parse(JSON.parse(s.job));
    return s;
  } catch (e) {
    return new Error(`unreadable schedule record: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
}

function readList(raw: unknown): Listed[] {
  if (!Array.isArray(raw) || raw.length % 3 !== 0) throw new Error("schedule_list replied with an unexpected shape");
  const out: Listed[] = [];
  for (let i = 0; i < raw.length; i += 3) {
    const json = String(raw[i + 1]);
    out.push({ name: String(raw[i]), stored: json === "" ? null : parseStored(json), due: Number(raw[i + 2]) });
  }
  return out;
}

/** Creates or replaces a schedule; its next run is computed from now. */
export async function putSchedule(ctx: EngineContext, input: ScheduleInput, checkJob: (job: EnqueueRequestInput) => void): Promise<{ schedule: Schedule; created: boolean }> {
  const s = validate(ScheduleInput, input, "");
  const cron = parseCron(s.cron);
  checkJob({ ...s.job, id: `${s.name}:0` }); // the engine's own checks (queue, payload size), now rather than at the first run
  const now = ctx.now();
  const next = nextRun(cron, now)!;
  // schedule_put keeps the past of a schedule it replaces (created, last run, runs) and a run
  // already due, in the same script as the write
  const fresh: Stored = { name: s.name, cron: cron.source, job: JSON.stringify(s.job), createdAt: now, nextRunAt: next, lastRunAt: null, lastJobId: null, runs: 0 };
  const reply = await ctx.runRaw("schedule_put", [s.name, JSON.stringify(fresh), next]);
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error("schedule_put replied with an unexpected shape");
  const stored = parseStored(String(reply[1]));
  if (stored instanceof Error) throw stored;
  return { schedule: view(stored), created: reply[0] === 1 };
}

async function getStored(ctx: EngineContext, name: string): Promise<Stored | null> {
  const [one] = readList(await ctx.runRaw("schedule_list", ["one", name]));
  if (!one || one.stored === null) return null;
  if (one.stored instanceof Error) throw one.stored;
  return one.stored;
}

/** Every schedule that reads, by name (one whose record was damaged is left out; the tick logs it). */
export async function listSchedules(ctx: EngineContext): Promise<Schedule[]> {
  return readList(await ctx.runRaw("schedule_list", ["all", 0]))
    .flatMap((x) => (x.stored === null || x.stored instanceof Error ? [] : [view(x.stored)]))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function getSchedule(ctx: EngineContext, name: string): Promise<Schedule> {
  const stored = await getStored(ctx, validate(ScheduleName, name, "name"));
  if (!stored) throw new ScheduleNotFoundError(name);
  return view(stored);
}

export async function deleteSchedule(ctx: EngineContext, name: string): Promise<void> {
  const existed = await ctx.runRaw("schedule_delete", [validate(ScheduleName, name, "name")]);
  if (existed !== 1) throw new ScheduleNotFoundError(name);
}

/** A job a recurring schedule's run enqueued. */
export interface ScheduledJob {
  id: string;
  queue: string;
  status: JobStatus;
}

export interface FireReport {
  /** The jobs of the runs fired now (for push-mode announcements). */
  jobs: ScheduledJob[];
  /** Runs some other firer handled first, or whose job already existed. */
  skipped: number;
  /** Runs whose job could not be enqueued (logged by the caller; tried again in SCHEDULE_RETRY_MS). */
  failed: Array<{ name: string; error: string }>;
}

/** How long a schedule whose run could not be enqueued waits before it is tried again. */
export const SCHEDULE_RETRY_MS = 60_000;

/**
 * Fires every due schedule (up to `max`): enqueues the run's job and moves the schedule on.
 * `toArgs` turns a job request into enqueue.lua's positional spec (the engine's validation).
 */
export async function fireSchedules(ctx: EngineContext, toArgs: (job: EnqueueRequestInput) => Array<string | number>, max = 100): Promise<FireReport> {
  const now = ctx.now();
  const report: FireReport = { jobs: [], skipped: 0, failed: [] };
  for (const due of readList(await ctx.runRaw("schedule_list", ["due", max]))) {
    if (due.stored === null) {
      await ctx.runRaw("schedule_delete", [due.name]); // an index entry without its schedule
      continue;
    }
    // The schedule's own problems (a record edited by hand, its queue removed from the
    // configuration) are reported and retried in a minute, and the other schedules still fire;
    // Redis failing is not the schedule's problem: the script calls below let that propagate.
    let fire: { run: number; following: number; args: Array<string | number> };
    try {
      if (due.stored instanceof Error) throw due.stored;
      const cron = parseCron(due.stored.cron);
      // The run that is due names the job, even when its firing was retried later (due.due).
      const run = Math.min(due.stored.nextRunAt, due.due);
      // Missed runs coalesce: the next run is the first one after now, not after the missed one.
      const following = nextRun(cron, Math.max(now, run))!;
      const job = JSON.parse(due.stored.job) as ScheduledJobTemplateInput;
      fire = { run, following, args: toArgs({ ...job, id: `${due.name}:${run}`, createdAt: new Date(run).toISOString() }) };
    } catch (e) {
      await ctx.runRaw("schedule_retry", [due.name, due.due, now + SCHEDULE_RETRY_MS]);
      report.failed.push({ name: due.name, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const reply = await ctx.runRaw("schedule_fire", [due.name, due.due, fire.run, fire.following, ...fire.args]);
    if (!Array.isArray(reply)) throw new Error("schedule_fire replied with an unexpected shape");
    if (reply[0] === "fired") {
      if (Number(reply[2]) === 1) report.jobs.push({ id: `${due.name}:${fire.run}`, queue: String(reply[3]), status: JobStatus.parse(reply[1]) });
      else report.skipped++;
    } else if (reply[0] === "stale") {
      report.skipped++;
    } else {
      await ctx.runRaw("schedule_retry", [due.name, due.due, now + SCHEDULE_RETRY_MS]);
      report.failed.push({ name: due.name, error: `${String(reply[1])}: ${String(reply[2])}` });
    }
  }
  return report;
}
