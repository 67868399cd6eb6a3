/**
 * The worker registry: each running Worker announces itself with a TTL'd record, refreshed by one
 * script call per beat (default every 60 s, record TTL 180 s), and indexed in a ZSET by last beat so
 * stats never scan the keyspace. Controllers read the seed's worker stats and suspend or resume
 * workers through it.
 *
 * Keys (see keys.ts): `P workers` (index), `P worker:{w}` (record), `P worker:{w}:control` (wake-ups).
 */
import os from "node:os";
import { z } from "zod";
import { keySpace, type KeySpace } from "../keys.ts";
import { Id, type PermissionLevel } from "../messages.ts";
import { runScript } from "../scripts.ts";
import type { RedisPort } from "../transports/port.ts";
import { validate } from "../validate.ts";

/** Registry timing defaults: a beat every 60 s, a record that lives 180 s without one (three missed beats). */
export const REGISTRY_DEFAULTS = { beatMs: 60_000, ttlMs: 180_000 } as const;

/** The seed's worker states: idle (nothing in flight), busy (jobs in flight), suspended (claims nothing new). */
export type WorkerState = "idle" | "busy" | "suspended";

/** What a worker reports on each beat. */
export interface WorkerBeat {
  workerId: string;
  /** idle or busy; the registry reports `suspended` itself once the worker has been suspended. */
  state: WorkerState;
  queues: readonly string[];
  permissionLevels: readonly PermissionLevel[];
  concurrency: number;
  activeJobs: number;
  jobsProcessed: number;
  jobsFailed: number;
  /** ms since the epoch. */
  startedAt: number;
  host?: string;
  pid?: number;
}

/** One worker as the seed's `get_stats()` reports it, plus where it runs. */
export interface WorkerInfo {
  workerId: string;
  state: WorkerState;
  active_jobs: number;
  jobs_processed: number;
  jobs_failed: number;
  uptime_seconds: number;
  queues: string[];
  permission_levels: string[];
  concurrency: number;
  host: string;
  pid: number;
  started_at: string;
  last_beat_at: string;
}

/** The seed's worker stats: counts by state, and each worker. */
export interface WorkerStats {
  total: number;
  idle: number;
  busy: number;
  suspended: number;
  workers: WorkerInfo[];
}

export interface WorkerRegistryOptions {
  redis: RedisPort;
  /** The engine's key prefix (default "ws:") or its KeySpace. */
  keys?: string | KeySpace;
  /** Record TTL: a worker silent this long is gone from stats. Default 180 s. */
  ttlMs?: number;
  now?: () => number;
}

const int = z.coerce.number().int();
const list = z
  .string()
  .optional()
  .transform((s) => (s ? s.split(",") : []));
const WorkerRecord = z.object({
  id: z.string(),
  state: z.enum(["idle", "busy", "suspended"]).catch("idle"),
  suspended: z.string().optional(),
  queues: list,
  levels: list,
  concurrency: int.catch(0),
  active_jobs: int.catch(0),
  jobs_processed: int.catch(0),
  jobs_failed: int.catch(0),
  started_at: int,
  beat_at: int,
  host: z.string().catch(""),
  pid: int.catch(0),
});

const flatToObject = (flat: readonly string[]) => {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
  return o;
};
const arrayOrEmpty = <T extends z.ZodType>(item: T) =>
  z.union([z.array(item), z.object({}).strict()]).transform((v) => (Array.isArray(v) ? v : []));

const StatsReply = z.object({ workers: arrayOrEmpty(z.array(z.string())), more: z.boolean() });
const ControlReply = z.union([
  z.object({ ok: z.literal(true), suspended: z.boolean() }),
  z.object({ ok: z.literal(false), code: z.literal("worker_not_found") }),
]);

/**
 * Reads and writes the worker registry.
 *
 * @example
 * const registry = new WorkerRegistry({ redis: tcpPort(url), keys: engine.keys });
 * const stats = await registry.workerStats(); // { total, idle, busy, suspended, workers }
 * await registry.suspendWorker("worker-1");
 */
export class WorkerRegistry {
  readonly keys: KeySpace;
  readonly ttlMs: number;
  private readonly redis: RedisPort;
  private readonly now: () => number;

  constructor(opts: WorkerRegistryOptions) {
    this.redis = opts.redis;
    this.keys = typeof opts.keys === "object" ? opts.keys : keySpace(opts.keys ?? "ws:");
    this.ttlMs = opts.ttlMs ?? REGISTRY_DEFAULTS.ttlMs;
    if (!Number.isInteger(this.ttlMs) || this.ttlMs < 1000) throw new RangeError("ttlMs must be a whole number of ms ≥ 1000");
    this.now = opts.now ?? Date.now;
  }

  private run(name: "worker_beat" | "worker_control" | "worker_deregister" | "worker_stats", args: ReadonlyArray<string | number>) {
    return runScript(this.redis, name, [], [this.keys.prefix, this.now(), ...args]);
  }

  /** Registers or refreshes a worker's record (one script call). Resolves whether it is suspended. */
  async beat(b: WorkerBeat): Promise<{ suspended: boolean }> {
    const id = validate(Id, b.workerId, "workerId");
    const fields: Array<string | number> = [
      "state", b.state,
      "queues", b.queues.join(","),
      "levels", b.permissionLevels.join(","),
      "concurrency", b.concurrency,
      "active_jobs", b.activeJobs,
      "jobs_processed", b.jobsProcessed,
      "jobs_failed", b.jobsFailed,
      "started_at", b.startedAt,
      "host", b.host ?? os.hostname(),
      "pid", b.pid ?? process.pid,
    ];
    const raw = await this.run("worker_beat", [id, this.ttlMs, ...fields]);
    return z.object({ suspended: z.boolean() }).parse(JSON.parse(raw));
  }

  /** Removes a worker that stopped cleanly, and its idle stream consumers on the given queue × level streams. */
  async deregister(workerId: string, streams: ReadonlyArray<{ queue: string; level: PermissionLevel }> = []): Promise<void> {
    const id = validate(Id, workerId, "workerId");
    await this.run("worker_deregister", [id, ...streams.flatMap((s) => [s.queue, s.level])]);
  }

  /**
   * The seed's worker stats from the registry index (pruning workers whose record expired).
   *
   * @example
   * const { total, busy, workers } = await registry.workerStats();
   */
  async workerStats(opts: { limit?: number } = {}): Promise<WorkerStats> {
    const now = this.now();
    const raw = await this.run("worker_stats", [this.ttlMs, opts.limit ?? 1000]);
    const reply = StatsReply.parse(JSON.parse(raw));
    const workers = reply.workers.flatMap((flat): WorkerInfo[] => {
      const r = WorkerRecord.safeParse(flatToObject(flat));
      if (!r.success) return [];
      const w = r.data;
      return [
        {
          workerId: w.id,
          state: w.suspended === "1" ? "suspended" : w.state === "suspended" ? "idle" : w.state,
          active_jobs: w.active_jobs,
          jobs_processed: w.jobs_processed,
          jobs_failed: w.jobs_failed,
          uptime_seconds: Math.max(0, Math.floor((now - w.started_at) / 1000)),
          queues: w.queues,
          permission_levels: w.levels,
          concurrency: w.concurrency,
          host: w.host,
          pid: w.pid,
          started_at: new Date(w.started_at).toISOString(),
          last_beat_at: new Date(w.beat_at).toISOString(),
        },
      ];
    });
    const count = (s: WorkerState) => workers.filter((w) => w.state === s).length;
    return { total: workers.length, idle: count("idle"), busy: count("busy"), suspended: count("suspended"), workers };
  }

  /**
   * Suspends a worker: it finishes what it holds and claims nothing new until resumed. An idle
   * worker learns it at once (its wait includes its control stream), a busy one at its next beat.
   * Resolves false when no such worker is registered.
   *
   * @example
   * if (!(await registry.suspendWorker("worker-1"))) console.error("no such worker");
   */
  async suspendWorker(workerId: string): Promise<boolean> {
    return this.control(workerId, "suspend");
  }

  /**
   * Resumes a suspended worker. Resolves false when no such worker is registered.
   *
   * @example
   * await registry.resumeWorker("worker-1");
   */
  async resumeWorker(workerId: string): Promise<boolean> {
    return this.control(workerId, "resume");
  }

  private async control(workerId: string, action: "suspend" | "resume"): Promise<boolean> {
    const id = validate(Id, workerId, "workerId");
    const reply = ControlReply.parse(JSON.parse(await this.run("worker_control", [id, action, this.ttlMs])));
    return reply.ok;
  }
}
