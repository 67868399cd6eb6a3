/**
 * Stage-aware deployment settings: the one place to tune sizes, scaling and alarm thresholds.
 *
 * Pure (no SST globals) so tests can import it directly; infra modules call `settingsFor($app.stage)`.
 * `prod` gets production sizes; every other stage (dev, pr-123, a developer's name) stays cheap.
 */

/** Fargate task sizes SST accepts; listed so a typo fails the infra type-check. */
export type FargateCpu = "0.25 vCPU" | "0.5 vCPU" | "1 vCPU" | "2 vCPU" | "4 vCPU";

export interface Settings {
  readonly stage: string;
  readonly isProd: boolean;
  /** CloudWatch namespace the metrics cron publishes to and alarms/autoscaling read from. */
  readonly metricsNamespace: string;
  /** Redis key prefix shared by Lambdas and workers: both must agree or they see different queues. */
  readonly keyPrefix: string;
  readonly lambda: {
    readonly memory: `${number} MB`;
    /** API Gateway caps integrations at 30 s; claim long-polls up to 20 s inside that. */
    readonly apiTimeout: `${number} seconds`;
    readonly cronTimeout: `${number} seconds`;
  };
  readonly worker: {
    readonly cpu: FargateCpu;
    readonly memory: `${number} GB`;
    readonly minTasks: number;
    readonly maxTasks: number;
    /** Fargate Spot is fine for dev: the worker drains on SIGTERM like any other stop. */
    readonly spot: boolean;
    readonly queues: readonly string[];
    readonly concurrency: number;
    /** The worker's own drain deadline; must stay below `stopTimeoutSeconds` or ECS SIGKILLs mid-drain. */
    readonly shutdownGraceMs: number;
    /** ECS waits this long after SIGTERM before SIGKILL (Fargate allows at most 120 s). */
    readonly stopTimeoutSeconds: number;
  };
  readonly scaling: {
    /** Target for (pending + in flight) / workers: roughly the worker's concurrency. */
    readonly targetBacklogPerWorker: number;
    readonly scaleInCooldownSeconds: number;
    readonly scaleOutCooldownSeconds: number;
  };
  readonly alarms: {
    /** Alarm when any job is dead-lettered. */
    readonly dlqDepth: number;
    /** Alarm when more than this many jobs wait across all queues. */
    readonly queueDepth: number;
    /** Alarm when more than this many jobs fail within `failedPeriodSeconds`. */
    readonly jobsFailed: number;
    readonly failedPeriodSeconds: number;
  };
}

export function settingsFor(stage: string): Settings {
  const isProd = stage === "prod";
  return {
    stage,
    isProd,
    metricsNamespace: `Workstream/${stage}`,
    keyPrefix: "ws:",
    lambda: { memory: "512 MB", apiTimeout: "30 seconds", cronTimeout: "60 seconds" },
    worker: {
      cpu: isProd ? "1 vCPU" : "0.25 vCPU",
      memory: isProd ? "2 GB" : "0.5 GB",
      // At least one task everywhere: target tracking scales the current task count in proportion
      // to the metric, so from zero tasks it would never start one.
      minTasks: 1,
      maxTasks: isProd ? 20 : 2,
      spot: !isProd,
      queues: ["high_priority", "default", "low_priority"],
      concurrency: 4,
      shutdownGraceMs: 110_000,
      stopTimeoutSeconds: 120,
    },
    scaling: { targetBacklogPerWorker: 4, scaleInCooldownSeconds: 300, scaleOutCooldownSeconds: 60 },
    alarms: { dlqDepth: 0, queueDepth: 100, jobsFailed: 10, failedPeriodSeconds: 300 },
  };
}
