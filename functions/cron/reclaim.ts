/**
 * Every minute (EventBridge `rate(1 minute)`): scheduled maintenance — reclaim expired leases,
 * promote due jobs, expire TTL'd jobs, trim indexes and prune gone workers' consumers every 10th
 * minute, DLQ alerts/callbacks and push nudges. Thin: parse the event, call core, map the result.
 * Configuration is parsed once at cold start; a bad variable fails the init naming it.
 */
import type { ScheduledEvent } from "aws-lambda";
import { z } from "zod";
import {
  configFromEnv,
  connect,
  createNotifyContext,
  Engine,
  notifyConfigFromEnv,
  runMaintenance,
  type MaintenanceDeps,
  type MaintenanceOptions,
} from "../../packages/core/src/index.ts";
import { linkedEnv } from "../_lib/linked-env.ts";

/** EventBridge scheduled events carry their scheduled time; anything else runs "now". */
const ScheduledTime = z.object({ time: z.iso.datetime() });

export interface ReclaimSummary {
  reclaimed: number;
  promoted: number;
  expired: number;
  trimmed: number;
  consumersRemoved: number;
  deadLetters: number;
  deliveriesFailed: number;
}

export function reclaimHandler(deps: MaintenanceDeps, options: Omit<MaintenanceOptions, "at"> = {}) {
  return async (event: ScheduledEvent | Record<string, unknown> | undefined): Promise<ReclaimSummary> => {
    const parsed = ScheduledTime.safeParse(event);
    const report = await runMaintenance(deps, { ...options, ...(parsed.success ? { at: Date.parse(parsed.data.time) } : {}) });
    return {
      ...report.tick,
      consumersRemoved: report.consumers?.removed.length ?? 0,
      deadLetters: report.deadLetters.length,
      deliveriesFailed: report.deliveries.filter((d) => !d.result.ok).length,
    };
  };
}

function depsFromEnv(): MaintenanceDeps {
  const env = linkedEnv();
  const { connection, settings } = configFromEnv(env);
  const redis = connect(connection);
  const engine = new Engine({ redis, settings });
  const notify = createNotifyContext({ config: notifyConfigFromEnv(env), jobs: engine, queueNames: engine.queues.ordered.map((q) => q.name) });
  return { engine, redis, notify };
}

export const handler = reclaimHandler(depsFromEnv());
