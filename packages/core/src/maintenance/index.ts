/**
 * Scheduled maintenance, run every minute by functions/cron/reclaim.ts (and the local stack):
 *
 *   1. engine.tick(): reclaims expired leases (the lost attempt counts: retried or dead-lettered),
 *      promotes due delayed jobs and retries, expires jobs past their queue TTL; on every
 *      `trimEveryMinutes`-th minute it also trims the finished/failed/DLQ indexes.
 *   2. On every `pruneEveryMinutes`-th minute: removes stream consumers of workers that are gone
 *      (no pending entries, idle past `consumerIdleMs`); consumers with pending entries are kept.
 *   3. When notifications are on: sends the callback outbox (callbacks of jobs finished by anyone,
 *      including those the reclaim just dead-lettered, and retries of sends that failed), the DLQ
 *      sweep (an alert per new DLQ entry), then the push-queue nudge.
 *
 * Every step is one Lua script (or a few bounded passes of one) and is safe to run concurrently
 * with itself, with claims and with another maintenance run: each re-checks state atomically.
 */
import type { Engine, QueueStats, TickResult } from "../engine.ts";
import { deliverCallbacks } from "../notify/callbacks.ts";
import { afterEnqueue, notifyDeadLetters, nudgePushQueues, type DeadLetterEntry, type DeliveryReport, type NotifyContext } from "../notify/hooks.ts";
import { runScript } from "../scripts.ts";
import type { RedisPort } from "../transports/port.ts";
import { jsonLineLogger, type StructuredLogger } from "./log.ts";
import { z } from "zod";

export interface MaintenanceDeps {
  engine: Engine;
  /** The port the engine runs on (maintenance runs its own scripts through it). */
  redis: RedisPort;
  /** Notification context; null or absent = no DLQ alerts, callbacks or push nudges. */
  notify?: NotifyContext | null;
  now?: () => number;
  log?: StructuredLogger;
}

export interface MaintenanceOptions {
  /** Scheduled time of this run (ms): decides the every-N-minutes steps. Default: now. */
  at?: number;
  /** Trim indexes and reconcile pending lists on every N-th minute (default 30). */
  trimEveryMinutes?: number;
  /** Scan ready streams for jobs past their TTL on every N-th minute (default 10; claims expire them anyway). */
  expireEveryMinutes?: number;
  /** Prune idle consumers on every N-th minute (default 30). */
  pruneEveryMinutes?: number;
  /** A consumer with no pending entries is removed once idle this long (default 1 h). */
  consumerIdleMs?: number;
  /** How far below its watermark the DLQ sweep re-checks for late writers (default 60 s). */
  dlqLookbackMs?: number;
  /** Most DLQ entries per queue per sweep pass (default 100; up to 5 passes per run). */
  dlqBatch?: number;
  /** A push queue whose oldest pending job waited this long is nudged (default 60 s). */
  pushNudgeAfterMs?: number;
}

export interface PruneResult {
  removed: Array<{ stream: string; consumer: string }>;
  keptWithPending: number;
  examined: number;
}

export interface MaintenanceReport {
  at: number;
  tick: TickResult;
  trimmed: boolean;
  consumers: PruneResult | null;
  deadLetters: DeadLetterEntry[];
  deliveries: DeliveryReport[];
}

const emptyArray = <T extends z.ZodType>(item: T) => z.union([z.array(item), z.strictObject({}).transform(() => [])]);

const PruneReply = z.object({
  removed: emptyArray(z.tuple([z.string(), z.string()])),
  kept_with_pending: z.number(),
  examined: z.number(),
});

const SweepReply = z.object({
  entries: emptyArray(
    z.object({
      id: z.string(),
      queue: z.string(),
      dlq_at: z.number(),
      reason: z.string(),
      attempts: z.number(),
      error: z.object({ name: z.string(), message: z.string(), code: z.string().optional() }),
    }),
  ),
  more: z.boolean(),
});

const queueNames = (engine: Engine) => engine.queues.ordered.map((q) => q.name);

/** Removes idle consumers that hold no pending entries, on every configured queue's ready streams. */
export async function pruneConsumers(deps: Pick<MaintenanceDeps, "engine" | "redis" | "now">, opts: { idleMs: number }): Promise<PruneResult> {
  const now = (deps.now ?? Date.now)();
  const raw = await runScript(deps.redis, "prune_consumers", [], [deps.engine.keys.prefix, now, opts.idleMs, ...queueNames(deps.engine)]);
  const r = PruneReply.parse(JSON.parse(raw));
  return { removed: r.removed.map(([stream, consumer]) => ({ stream, consumer })), keptWithPending: r.kept_with_pending, examined: r.examined };
}

/** Claims the DLQ entries not yet reported (each is returned by exactly one sweep). */
export async function sweepDeadLetters(
  deps: Pick<MaintenanceDeps, "engine" | "redis" | "now">,
  opts: { lookbackMs?: number; limit?: number } = {},
): Promise<{ entries: DeadLetterEntry[]; more: boolean }> {
  const now = (deps.now ?? Date.now)();
  const raw = await runScript(deps.redis, "dlq_sweep", [], [deps.engine.keys.prefix, now, opts.lookbackMs ?? 60_000, opts.limit ?? 100, ...queueNames(deps.engine)]);
  const r = SweepReply.parse(JSON.parse(raw));
  return {
    more: r.more,
    entries: r.entries.map((e) => ({
      id: e.id,
      queue: e.queue,
      deadLetteredAt: e.dlq_at,
      reason: e.reason,
      attempts: e.attempts,
      error: { name: e.error.name, message: e.error.message, ...(e.error.code ? { code: e.error.code } : {}) },
    })),
  };
}

/**
 * How often the heavier steps run. Each is a safety net or housekeeping, not on any job's path
 * (claims fire due timers and expire stale entries themselves; records expire on their own TTLs),
 * and an idle deployment pays for every command it runs on Upstash: 3.5 commands a minute with
 * these (docs/maintenance.md).
 */
export const MAINTENANCE_DEFAULTS = { trimEveryMinutes: 30, expireEveryMinutes: 10, pruneEveryMinutes: 30 } as const;

const everyNth = (at: number, n: number) => n > 0 && Math.floor(at / 60_000) % n === 0;

/** One maintenance run (see the module comment). */
export async function runMaintenance(deps: MaintenanceDeps, opts: MaintenanceOptions = {}): Promise<MaintenanceReport> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? jsonLineLogger;
  const at = opts.at ?? now();
  const trim = everyNth(at, opts.trimEveryMinutes ?? MAINTENANCE_DEFAULTS.trimEveryMinutes);
  const tick = await deps.engine.tick({ trim, expire: everyNth(at, opts.expireEveryMinutes ?? MAINTENANCE_DEFAULTS.expireEveryMinutes) });

  const consumers = everyNth(at, opts.pruneEveryMinutes ?? MAINTENANCE_DEFAULTS.pruneEveryMinutes) ? await pruneConsumers(deps, { idleMs: opts.consumerIdleMs ?? 3_600_000 }) : null;

  const deadLetters: DeadLetterEntry[] = [];
  const deliveries: DeliveryReport[] = [];
  const notify = deps.notify ?? null;
  if (notify) {
    deliveries.push(...(await deliverCallbacks(notify, { sender: "maintenance" })));
    for (let pass = 0; pass < 5; pass++) {
      const swept = await sweepDeadLetters(deps, { lookbackMs: opts.dlqLookbackMs ?? 60_000, limit: opts.dlqBatch ?? 100 });
      deadLetters.push(...swept.entries);
      deliveries.push(...(await notifyDeadLetters(notify, swept.entries)));
      if (!swept.more) break;
    }
    const pushQueues = Object.keys(notify.pushQueues);
    if (pushQueues.length > 0) {
      // recurring schedules' new jobs are announced like any enqueue (the nudge would wait a minute)
      deliveries.push(...(await afterEnqueue(notify, tick.scheduled.map((j) => ({ ...j, created: true })))));
      const stats: QueueStats[] = await deps.engine.stats(pushQueues);
      deliveries.push(...(await nudgePushQueues(notify, stats, { at, olderThanMs: opts.pushNudgeAfterMs ?? 60_000 })));
    }
  }

  const failed = deliveries.filter((d) => !d.result.ok).length;
  for (const f of tick.scheduleFailures) {
    log.log({ level: "error", event: "schedule.fire_failed", schedule: f.name, error: f.error });
  }
  const tickCounts = { ...tick, scheduled: tick.scheduled.length }; // the count is logged, not every job
  log.log({
    level: failed > 0 ? "warn" : "info",
    event: "maintenance.run",
    at: new Date(at).toISOString(),
    ...tickCounts,
    trim,
    consumersRemoved: consumers?.removed.length ?? null,
    consumersKeptWithPending: consumers?.keptWithPending ?? null,
    deadLetters: deadLetters.length,
    deliveries: deliveries.length,
    deliveriesFailed: failed,
  });
  return { at, tick, trimmed: trim, consumers, deadLetters, deliveries };
}

export * from "./log.ts";
