/**
 * Every Redis key Workstream uses, built in one place.
 *
 * Layout for prefix P (default "ws:"), queue q, permission level l and job id j:
 *
 *   P job:{j}                 HASH    the job record: status, attempts, lease, payload, result, error, history
 *   P {q}:ready:{l}           STREAM  jobs ready to run; consumer group "workers"; an entry is {id, t=ready-at ms}
 *   P {q}:delayed             ZSET    j -> due ms: scheduled jobs and retries waiting out their backoff
 *   P {q}:done                ZSET    j -> finished ms: completed jobs still within their result TTL
 *   P {q}:failed              ZSET    j -> failed ms: jobs that failed for good, within their failure TTL
 *   P {q}:dlq                 ZSET    j -> dead-lettered ms: the dead-letter queue of q
 *   P {q}:counters            HASH    monotonic totals: enqueued, completed, failed, retried, expired, cancelled
 *   P {q}:durations           LIST    run times (ms) of completed jobs since the metrics publisher last drained it
 *   P timers                  ZSET    "L:{j}" -> lease deadline ms; "D:{q}" -> earliest due ms in {q}:delayed
 *
 * `{q}` is a Redis Cluster hash tag so that one queue's keys share a slot. Job records are global
 * (ids are unique across queues) and scripts touch both, so Workstream targets a single-shard Redis
 * such as an Upstash database; sharding is done by running one engine per database.
 *
 * Scripts that learn a job id or queue name only while running (claim, timers) build keys in Lua
 * from the same prefix: `lua/includes/keys.lua` mirrors this module and a test checks they agree.
 */
export const CONSUMER_GROUP = "workers";

export const PERMISSION_LEVELS = ["autonomous", "supervised", "human_required"] as const;
type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

export interface KeySpace {
  readonly prefix: string;
  job(id: string): string;
  ready(queue: string, level: PermissionLevel): string;
  delayed(queue: string): string;
  done(queue: string): string;
  failed(queue: string): string;
  dlq(queue: string): string;
  counters(queue: string): string;
  durations(queue: string): string;
  timers(): string;
}

export function keySpace(prefix: string): KeySpace {
  const q = (queue: string, suffix: string) => `${prefix}{${queue}}:${suffix}`;
  return {
    prefix,
    job: (id) => `${prefix}job:${id}`,
    ready: (queue, level) => q(queue, `ready:${level}`),
    delayed: (queue) => q(queue, "delayed"),
    done: (queue) => q(queue, "done"),
    failed: (queue) => q(queue, "failed"),
    dlq: (queue) => q(queue, "dlq"),
    counters: (queue) => q(queue, "counters"),
    durations: (queue) => q(queue, "durations"),
    timers: () => `${prefix}timers`,
  };
}
