/**
 * Long-running workers on Fargate: blocking TCP reads from Upstash, scaled on backlog per worker.
 *
 * The SST VPC puts service tasks in public subnets with public IPs, so they reach Upstash without
 * a NAT gateway (none is created). SST's built-in CPU/memory scaling is switched off: a worker
 * waiting on a blocking read is idle on CPU yet fully useful, so only the backlog metric scales it.
 */
import { sharedEnvironment } from "./lambda";
import { workerLink } from "./secrets";
import { settingsFor } from "./settings";

const settings = settingsFor($app.stage);
const w = settings.worker;

export const vpc = new sst.aws.Vpc("Vpc");
export const cluster = new sst.aws.Cluster("Cluster", { vpc });

export const worker = new sst.aws.Service("Worker", {
  cluster,
  image: { context: ".", dockerfile: "Dockerfile" },
  cpu: w.cpu,
  memory: w.memory,
  capacity: w.spot ? "spot" : undefined,
  link: workerLink,
  environment: {
    ...sharedEnvironment,
    WORKSTREAM_QUEUES: w.queues.join(","),
    WORKSTREAM_CONCURRENCY: String(w.concurrency),
    WORKSTREAM_SHUTDOWN_GRACE_MS: String(w.shutdownGraceMs),
  },
  scaling: {
    min: w.minTasks,
    max: w.maxTasks,
    cpuUtilization: false,
    memoryUtilization: false,
  },
  transform: {
    // SST has no stop-timeout option: set it on the container so ECS waits out the worker's drain
    // (grace period + margin) before SIGKILL.
    taskDefinition: (args) => {
      args.containerDefinitions = $output(args.containerDefinitions).apply((json) =>
        JSON.stringify(
          (JSON.parse(json) as Record<string, unknown>[]).map((c) => ({
            ...c,
            stopTimeout: w.stopTimeoutSeconds,
          })),
        ),
      );
    },
  },
});

/**
 * Target tracking on BacklogPerWorker = (pending + in flight) / workers, published each minute by
 * the metrics cron with `Queue=ALL`. `sst dev` runs no service, so there is no target to scale.
 */
export const backlogScaling = $dev
  ? undefined
  : new aws.appautoscaling.Policy("WorkerBacklogScaling", {
      policyType: "TargetTrackingScaling",
      resourceId: worker.nodes.autoScalingTarget.resourceId,
      scalableDimension: worker.nodes.autoScalingTarget.scalableDimension,
      serviceNamespace: worker.nodes.autoScalingTarget.serviceNamespace,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: settings.scaling.targetBacklogPerWorker,
        scaleInCooldown: settings.scaling.scaleInCooldownSeconds,
        scaleOutCooldown: settings.scaling.scaleOutCooldownSeconds,
        customizedMetricSpecification: {
          namespace: settings.metricsNamespace,
          metricName: "BacklogPerWorker",
          dimensions: [{ name: "Queue", value: "ALL" }],
          statistic: "Average",
          unit: "Count",
        },
      },
    });
