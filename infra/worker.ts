/**
 * Long-running workers on Fargate: blocking TCP reads from Upstash, scaled on backlog per worker.
 *
 * The image is the repo's Dockerfile with the stage's job handler (`worker.handler` in
 * settings.ts) bundled in through the `HANDLER` build arg. A stage whose handler is null gets no
 * workers at all — no VPC, cluster, service or scaling — rather than tasks that exit at start
 * ("set WORKSTREAM_HANDLER") while backlog scaling multiplies them.
 *
 * The SST VPC puts service tasks in public subnets with public IPs, so they reach Upstash without
 * a NAT gateway (none is created). SST's built-in CPU/memory scaling is switched off: a worker
 * waiting on a blocking read is idle on CPU yet fully useful, so only the backlog metric scales it.
 */
import { workerLink } from "./secrets";
import { settingsFor, workerEnvironment } from "./settings";

const settings = settingsFor($app.stage);
const w = settings.worker;

function createWorkers(handler: string) {
  const vpc = new sst.aws.Vpc("Vpc");
  const cluster = new sst.aws.Cluster("Cluster", { vpc });

  const service = new sst.aws.Service("Worker", {
    cluster,
    // HANDLER: the Dockerfile bundles this module into /app/dist/handler.mjs and points
    // WORKSTREAM_HANDLER at it; the task environment below says the same, for anyone reading it.
    image: { context: ".", dockerfile: "Dockerfile", args: { HANDLER: handler } },
    cpu: w.cpu,
    memory: w.memory,
    capacity: w.spot ? "spot" : undefined,
    link: workerLink,
    environment: workerEnvironment(settings),
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
   * the metrics cron with `Queue=ALL`, counting only these workers' queues and permission levels
   * (settings.ts passes them to the cron as WORKSTREAM_BACKLOG_QUEUES / _LEVELS). `sst dev` runs no service, so there is no target to scale.
   */
  const backlogScaling = $dev
    ? undefined
    : new aws.appautoscaling.Policy("WorkerBacklogScaling", {
        policyType: "TargetTrackingScaling",
        resourceId: service.nodes.autoScalingTarget.resourceId,
        scalableDimension: service.nodes.autoScalingTarget.scalableDimension,
        serviceNamespace: service.nodes.autoScalingTarget.serviceNamespace,
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

  return { vpc, cluster, service, backlogScaling };
}

if (!w.handler) {
  console.warn(
    `\nWorkstream: stage "${settings.stage}" deploys NO workers: worker.handler is null in infra/settings.ts.\n` +
      "Jobs are accepted and wait until something claims them. To run workers on Fargate, set\n" +
      'worker.handler to your handler module (e.g. "worker/handler.ts") and deploy again; see docs/deploy.md.\n',
  );
}

/** The stage's workers, or undefined when it has none (worker.handler is null). */
export const workers = w.handler ? createWorkers(w.handler) : undefined;

/** For the deploy outputs: what runs the stage's jobs. */
export const workersSummary = w.handler
  ? `${w.handler} on ${w.minTasks}-${w.maxTasks} Fargate task(s)`
  : "none (worker.handler is null in infra/settings.ts)";
