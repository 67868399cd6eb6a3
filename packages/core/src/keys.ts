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
 *   P {q}:deferred            ZSET    j -> enqueued ms: jobs waiting for the jobs they depend on
 *   P {q}:counters            HASH    monotonic totals: enqueued, completed, failed, retried, expired, cancelled
 *   P {q}:durations           LIST    run times (ms) of completed jobs since the metrics publisher last drained it
 *   P timers                  ZSET    "L:{j}" -> lease deadline ms; "D:{q}" -> earliest due ms in {q}:delayed;
 *                                     "R:{r}" -> expiry ms of open worker request r
 *   P req:{r}                 HASH    a worker → controller request, its status and the controller's response
 *   P req:{r}:signal          LIST    one element pushed when r is answered or expires (a blocking waiter's wake-up)
 *   P requests:open           ZSET    r -> expiry ms, requests awaiting an answer
 *   P requests:closed         ZSET    r -> closed ms, answered or expired requests within their retention
 *   P {q}:dlq:seen            STRING  highest dead-lettered ms the DLQ sweep has alerted on (its watermark)
 *   P metrics:last            HASH    "{q}:enqueued"/"{q}:failed" -> counter values already taken for publishing
 *   P metrics:outbox          HASH    counts taken but not yet published: "{q}:enqueued|failed|dcount|dsum|dmin|dmax",
 *                                     plus the publisher's lease ("token", "lease_until")
 *   P workers                 ZSET    w -> last registry beat ms: the index of live workers (pruned past the record TTL)
 *   P worker:{w}              HASH    worker w's registry record: state, queues, counts, host, pid (TTL'd, refreshed by beats)
 *   P worker:{w}:control      STREAM  wake-ups for worker w's blocking wait (suspend/resume); short, TTL'd
 *   P apikey:{k}              HASH    API key k: principal, roles, permission levels, SHA-256 of its secret, expiry, revocation
 *   P apikeys                 ZSET    k -> created ms: index of API keys (entries whose record expired are pruned on list)
 *   P audit                   STREAM  the audit log: principal, action, job, outcome per queue operation (XADD MAXLEN ~)
 *   P callbacks               STREAM  the callback outbox: {id, o=outcome, q, a=attempts, u=url, t=finished ms} per
 *                                     finished job that has a callback_url; consumer group "senders" (notify/callbacks.ts)
 *   P schedules               HASH    name -> a recurring schedule as JSON: cron, job template, next/last run (schedules.ts)
 *   P schedules:due           ZSET    name -> the schedule's next run ms (the maintenance tick fires the due ones)
 *
 * `{q}` is a Redis Cluster hash tag so that one queue's keys share a slot. Job records are global
 * (ids are unique across queues) and scripts touch both, so Workstream targets a single-shard Redis
 * such as an Upstash database; sharding is done by running one engine per database.
 *
 * Scripts that learn a job id or queue name only while running (claim, timers) build keys in Lua
 * from the same prefix: `lua/includes/keys.lua` mirrors this module and a test checks they agree.
 */
export const CONSUMER_GROUP = "workers";
/** The consumer group of the callback outbox: whoever delivers callbacks (API, worker, cron) reads as one. */
export const CALLBACK_GROUP = "senders";

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
  deferred(queue: string): string;
  counters(queue: string): string;
  durations(queue: string): string;
  timers(): string;
  request(id: string): string;
  requestSignal(id: string): string;
  requestsOpen(): string;
  requestsClosed(): string;
  /** Index of registered workers by last beat (see worker/registry.ts). */
  workers(): string;
  worker(id: string): string;
  workerControl(id: string): string;
  /** API key record (security/api-keys.ts); the secret itself is never stored. */
  apiKey(id: string): string;
  apiKeys(): string;
  /** The audit log stream (security/audit.ts). */
  audit(): string;
  /** DLQ entries already alerted on (notify/). */
  dlqSeen(queue: string): string;
  /** Counter values at the last successful metrics publish (metrics/). */
  metricsLast(): string;
  metricsOutbox(): string;
  /** The callback outbox stream (notify/callbacks.ts). */
  callbacks(): string;
  /** Recurring schedules by name, and their next runs (schedules.ts). */
  schedules(): string;
  schedulesDue(): string;
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
    deferred: (queue) => q(queue, "deferred"),
    counters: (queue) => q(queue, "counters"),
    durations: (queue) => q(queue, "durations"),
    timers: () => `${prefix}timers`,
    workers: () => `${prefix}workers`,
    worker: (id) => `${prefix}worker:${id}`,
    workerControl: (id) => `${prefix}worker:${id}:control`,
    request: (id) => `${prefix}req:${id}`,
    requestSignal: (id) => `${prefix}req:${id}:signal`,
    requestsOpen: () => `${prefix}requests:open`,
    requestsClosed: () => `${prefix}requests:closed`,
    apiKey: (id) => `${prefix}apikey:${id}`,
    apiKeys: () => `${prefix}apikeys`,
    audit: () => `${prefix}audit`,
    dlqSeen: (queue) => q(queue, "dlq:seen"),
    metricsLast: () => `${prefix}metrics:last`,
    metricsOutbox: () => `${prefix}metrics:outbox`,
    callbacks: () => `${prefix}callbacks`,
    schedules: () => `${prefix}schedules`,
    schedulesDue: () => `${prefix}schedules:due`,
  };
}
