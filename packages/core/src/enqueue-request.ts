/**
 * What producers send to enqueue a job: a generic job (any JSON payload with a type name), or a
 * seed work order, which maps onto the same request.
 */
import { z } from "zod";
import { Id, PermissionLevel, Priority, type WorkOrderMessage } from "./messages.ts";
import { QueueName } from "./queues.ts";
import { RetryPolicy } from "./retry.ts";

const EnqueueFields = z.object({
    /** The job id and idempotency key: enqueueing the same id again returns the existing job. Generated when absent. */
    id: Id.optional(),
    /** Target queue; when absent the priority picks one (critical/high → high_priority, normal → default, low → low_priority). */
    queue: QueueName.optional(),
    priority: Priority.default("normal"),
    /** What kind of job this is, for the worker's dispatch (e.g. "work_order", "debate"). */
    type: z.string().min(1).max(128).default("job"),
    payload: z.unknown().refine((v) => v !== undefined, "payload is required"),
    /** Only workers allowed this level may claim the job. */
    permissionLevel: PermissionLevel.default("autonomous"),
    /** Overrides the queue's job timeout (also the default lease length). */
    timeoutSeconds: z.number().int().positive().max(7 * 86_400).optional(),
    /** Overrides the queue's retry count: max attempts = maxRetries + 1. */
    maxRetries: z.number().int().min(0).max(100).optional(),
    /** Overrides the queue's retry policy. */
    retry: RetryPolicy.optional(),
    /** Run no earlier than this many ms from now. */
    delayMs: z.number().int().min(0).max(365 * 86_400_000).optional(),
    /** Run no earlier than this time (ISO-8601). */
    runAt: z.iso.datetime({ offset: true }).optional(),
    /** Overrides the queue's TTL: how long the job may wait to start (0 = forever). */
    ttlSeconds: z.number().int().min(0).max(30 * 86_400).optional(),
    /** Where to report the outcome (delivered through QStash in the cloud). */
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    /**
     * Jobs that must complete before this one starts (ids of existing jobs, or of jobs earlier in
     * the same batch). If one of them fails for good, expires or is cancelled, this job is cancelled.
     */
    dependsOn: z.array(Id).max(100).optional(),
    /** When the producer created it (ISO-8601); defaults to the enqueue time. */
    createdAt: z.iso.datetime({ offset: true }).optional(),
  });

export const EnqueueRequest = EnqueueFields.strict().refine((r) => !(r.delayMs !== undefined && r.runAt !== undefined), {
  message: "give delayMs or runAt, not both",
  path: ["runAt"],
});
export type EnqueueRequest = z.infer<typeof EnqueueRequest>;
export type EnqueueRequestInput = z.input<typeof EnqueueRequest>;

/**
 * The job a recurring schedule enqueues at each run: a job request without what belongs to one run
 * (its id: the schedule name and the run time; its start time: the run; its creation time) or to
 * other jobs (dependsOn).
 */
export const ScheduledJobTemplate = EnqueueFields.omit({ id: true, delayMs: true, runAt: true, createdAt: true, dependsOn: true }).strict();
export type ScheduledJobTemplate = z.infer<typeof ScheduledJobTemplate>;
export type ScheduledJobTemplateInput = z.input<typeof ScheduledJobTemplate>;

/**
 * How a work order is delivered, besides what its own fields say (id, priority, permission level,
 * timeout, retries): the same options as a generic job's. They are not part of the message the
 * worker receives.
 */
export const WORK_ORDER_OPTION_KEYS = ["queue", "retry", "delayMs", "runAt", "ttlSeconds", "callbackUrl", "dependsOn"] as const;
export const WorkOrderOptions = EnqueueFields.pick({ queue: true, retry: true, delayMs: true, runAt: true, ttlSeconds: true, callbackUrl: true, dependsOn: true }).strict();
export type WorkOrderOptions = z.input<typeof WorkOrderOptions>;

/** Separates a work order body's delivery options from the message itself. */
export function splitWorkOrderOptions<T extends Record<string, unknown>>(body: T): { message: Omit<T, (typeof WORK_ORDER_OPTION_KEYS)[number]>; options: WorkOrderOptions } {
  const message: Record<string, unknown> = { ...body };
  const options: Record<string, unknown> = {};
  for (const k of WORK_ORDER_OPTION_KEYS) {
    if (k in message) {
      if (message[k] !== undefined) options[k] = message[k];
      delete message[k];
    }
  }
  return { message: message as Omit<T, (typeof WORK_ORDER_OPTION_KEYS)[number]>, options: options as WorkOrderOptions };
}

/** A seed work order as an enqueue request: its work_order_id is the job id, its priority picks the queue. */
export function workOrderRequest(wo: WorkOrderMessage, options: WorkOrderOptions = {}): EnqueueRequestInput {
  return {
    ...options,
    id: wo.work_order_id,
    priority: wo.priority,
    type: "work_order",
    payload: wo,
    permissionLevel: wo.permission_level,
    timeoutSeconds: wo.timeout_seconds,
    maxRetries: Math.max(0, wo.max_retries - wo.retry_count),
    createdAt: wo.created_at,
  };
}
