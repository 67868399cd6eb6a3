/**
 * The real sst.config.ts run(), evaluated offline under Pulumi mocks (harness/evaluate.ts) for
 * prod and dev as infra/settings.ts defines them (prod: no handler, so no workers; dev: the example
 * handler), and for prod with a handler and a runtime environment set (`prodWorkers`). Asserts
 * what `sst deploy` would create, resource by resource.
 * Needs `bash scripts/sst-install-offline.sh` first; without .sst/platform this file fails.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CRONS, ROUTES } from "../../functions/routes.ts";
import { settingsFor, type SettingsOverrides } from "../../infra/settings.ts";
import { evaluateApp, SECRET_NAMES, type Evaluation, type RecordedResource } from "./harness/evaluate.ts";

const API_SECRETS = [
  "UpstashRedisUrl",
  "UpstashRedisToken",
  "QStashToken",
  "QStashCurrentSigningKey",
  "QStashNextSigningKey",
  "AdminBootstrapKey",
  "PayloadEncryptionKey",
];
const CRON_SECRETS = API_SECRETS.filter((s) => s !== "AdminBootstrapKey");
const WORKER_SECRETS = ["UpstashRedisTcpUrl", "QStashToken", "PayloadEncryptionKey"];

/** prod with workers and every kind of runtime setting: a user-defined queue, JSON given as data. */
const PROD_WORKERS: SettingsOverrides = {
  worker: { handler: "worker/handler.ts", queues: ["debates", "default"], permissionLevels: ["autonomous", "supervised"] },
  environment: {
    WORKSTREAM_QUEUE_CONFIG: [{ name: "debates", rank: 5, timeoutMs: 900_000 }],
    WORKSTREAM_RETRY_MAX: 5,
    WORKSTREAM_DLQ_RETENTION_DAYS: "14",
    WORKSTREAM_DLQ_WEBHOOK_URL: "https://hooks.example.com/dlq",
    WORKSTREAM_PUSH_QUEUES: { debates: { url: "https://push.example.com/run", parallelism: 2 } },
    QSTASH_URL: "https://qstash-us-east-1.upstash.io",
    WORKSTREAM_ALERT_PENDING: 500,
    WORKSTREAM_ALERT_FAILED: 20,
    WORKSTREAM_NOTIFY_MODE: "qstash",
    WORKSTREAM_LOG_LEVEL: "debug",
  },
};
/** What PROD_WORKERS' environment becomes in every Lambda and worker. */
const PROD_WORKERS_ENV = {
  WORKSTREAM_QUEUE_CONFIG: '[{"name":"debates","rank":5,"timeoutMs":900000}]',
  WORKSTREAM_RETRY_MAX: "5",
  WORKSTREAM_DLQ_RETENTION_DAYS: "14",
  WORKSTREAM_DLQ_WEBHOOK_URL: "https://hooks.example.com/dlq",
  WORKSTREAM_PUSH_QUEUES: '{"debates":{"url":"https://push.example.com/run","parallelism":2}}',
  QSTASH_URL: "https://qstash-us-east-1.upstash.io",
  WORKSTREAM_ALERT_PENDING: "500",
  WORKSTREAM_ALERT_FAILED: "20",
  WORKSTREAM_NOTIFY_MODE: "qstash",
};

const evaluations: Record<string, Evaluation> = {};
beforeAll(async () => {
  const [prod, dev, prodWorkers] = await Promise.all([evaluateApp("prod"), evaluateApp("dev"), evaluateApp("prod", PROD_WORKERS)]);
  evaluations.prod = prod;
  evaluations.dev = dev;
  evaluations.prodWorkers = prodWorkers;
}, 120_000);

type Inputs = Record<string, any>;
const ofType = (e: Evaluation, type: string) => e.resources.filter((r) => r.type === type);
const one = (e: Evaluation, type: string): RecordedResource => {
  const found = ofType(e, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const named = (e: Evaluation, name: string): Inputs => {
  const found = e.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}`);
  return found.inputs;
};
/** Mock ARNs end with the resource's name. */
const nameOfArn = (arn: string) => arn.split(":").pop()!;

/** Lambda resource name → the handler and links SST asked the CLI to bundle it with. */
function builds(e: Evaluation) {
  const byFunction = new Map<string, { handler: string; links: string[] }>();
  for (const c of e.rpc.filter((c) => c.method === "Runtime.Build")) {
    const a = c.args as { functionID: string; handler: string; links?: Record<string, unknown> };
    byFunction.set(`${a.functionID}Function`, { handler: a.handler, links: Object.keys(a.links ?? {}).sort() });
  }
  return byFunction;
}

/** "METHOD /path" → the handler of the Lambda behind that API route. */
function routeHandlers(e: Evaluation) {
  const built = builds(e);
  const routes = new Map<string, string>();
  for (const r of ofType(e, "aws:apigatewayv2/route:Route")) {
    const integration = named(e, nameOfArn(String(r.inputs.target)).replace(/-id$/, "").replace(/^integrations\//, ""));
    const fn = nameOfArn(String(integration.integrationUri));
    routes.set(String(r.inputs.routeKey), built.get(fn)?.handler ?? `<no build for ${fn}>`);
  }
  return routes;
}

function containers(e: Evaluation): Inputs[] {
  return JSON.parse(String(one(e, "aws:ecs/taskDefinition:TaskDefinition").inputs.containerDefinitions));
}

describe.each(["prod", "dev", "prodWorkers"])("stage %s", (name) => {
  const e = () => evaluations[name]!;
  const stage = name === "dev" ? "dev" : "prod";

  it("wires one API route per handler in functions/routes.ts", () => {
    const routes = routeHandlers(e());
    expect(routes.size).toBe(ROUTES.length);
    for (const r of ROUTES) expect(routes.get(`${r.method} ${r.path}`), r.name).toBe(r.handler);
  });

  it("runs every function on Node 22 arm64 with the shared environment", () => {
    const fns = ofType(e(), "aws:lambda/function:Function");
    expect(fns).toHaveLength(ROUTES.length + CRONS.length);
    const cronFns = new Set(
      ofType(e(), "aws:scheduler/schedule:Schedule").map((s) => nameOfArn(String((s.inputs.target as Inputs).arn))),
    );
    for (const f of fns) {
      expect(f.inputs.runtime, f.name).toBe("nodejs22.x");
      expect(f.inputs.architectures, f.name).toEqual(["arm64"]);
      expect(f.inputs.memorySize, f.name).toBe(512);
      expect(f.inputs.timeout, f.name).toBe(cronFns.has(f.name) ? 60 : 30);
      const variables = (f.inputs.environment as Inputs).variables as Record<string, string>;
      expect(variables, f.name).toEqual({
        WORKSTREAM_KEY_PREFIX: "ws:",
        WORKSTREAM_METRICS_NAMESPACE: `Workstream/${stage}`,
        WORKSTREAM_REQUIRE_TLS: "true",
        // the autoscaling metric counts what the Fargate workers take
        WORKSTREAM_BACKLOG_LEVELS: name === "prodWorkers" ? "autonomous,supervised" : "autonomous",
        ...(name === "prodWorkers" ? { ...PROD_WORKERS_ENV, WORKSTREAM_BACKLOG_QUEUES: "debates,default" } : {}),
        // SST's own (its link/resource plumbing), not ours.
        ...Object.fromEntries(Object.entries(variables).filter(([k]) => k.startsWith("SST_"))),
      });
    }
  });

  it("links the API's secrets to every API route function, and none to the static dashboard page", () => {
    const built = builds(e());
    const kindOf = new Map(ROUTES.map((r) => [r.handler, r.kind]));
    const routeBuilds = [...built.values()].filter((b) => kindOf.has(b.handler));
    expect(routeBuilds).toHaveLength(ROUTES.length);
    for (const b of routeBuilds) expect(b.links, b.handler).toEqual(kindOf.get(b.handler) === "page" ? [] : [...API_SECRETS].sort());
    expect(routeBuilds.some((b) => kindOf.get(b.handler) === "page")).toBe(true);
  });

  it("schedules reclaim and metrics every minute with the cron secrets", () => {
    const built = builds(e());
    const schedules = ofType(e(), "aws:scheduler/schedule:Schedule");
    expect(schedules).toHaveLength(2);
    const handlers = schedules.map((s) => {
      expect(s.inputs.scheduleExpression, s.name).toBe("rate(1 minute)");
      expect(s.inputs.state).toBe("ENABLED");
      const b = built.get(nameOfArn(String((s.inputs.target as Inputs).arn)))!;
      expect(b.links, b.handler).toEqual([...CRON_SECRETS].sort());
      return b.handler;
    });
    expect(handlers.sort()).toEqual(["functions/cron/metrics.handler", "functions/cron/reclaim.handler"]);
  });

  it("lets only the metrics cron put CloudWatch metrics", () => {
    const granted = ofType(e(), "aws:iam/role:Role")
      .filter((r) => JSON.stringify(r.inputs.inlinePolicies ?? []).includes("cloudwatch:PutMetricData"))
      .map((r) => r.name);
    expect(granted).toEqual(["MetricsHandlerRole"]);
  });

  it("keeps every secret defined, and the Redis TCP URL for the workers only", () => {
    expect(ofType(e(), "sst:sst:Secret").map((s) => s.name).sort()).toEqual([...SECRET_NAMES].sort());
    for (const b of builds(e()).values()) expect(b.links).not.toContain("UpstashRedisTcpUrl");
  });

  it("alarms on new DLQ entries, queue depth and failures into the Alerts topic", () => {
    const topic = `arn:aws:mock:us-east-1:123456789012:${one(e(), "aws:sns/topic:Topic").name}`;
    const alarms = Object.fromEntries(ofType(e(), "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name, a.inputs]));
    expect(Object.keys(alarms).sort()).toEqual(["DlqDepthAlarm", "DlqNewEntriesAlarm", "FailedJobsAlarm", "JobsFailedAlarm", "QueueDepthAlarm"]);
    const expected = {
      // Every dead-letter adds to JobsFailed, a per-minute count: each new batch raises it again.
      DlqNewEntriesAlarm: { metricName: "JobsFailed", threshold: 0, statistic: "Sum", period: 60, alarmActions: [topic], okActions: [] },
      // Stays in ALARM while the DLQ holds anything: dashboard state only, it notifies no one.
      DlqDepthAlarm: { metricName: "DlqDepth", threshold: 0, statistic: "Maximum", period: 60, alarmActions: [], okActions: [] },
      QueueDepthAlarm: { metricName: "QueueDepth", threshold: 100, statistic: "Maximum", period: 60, alarmActions: [topic], okActions: [topic] },
      JobsFailedAlarm: { metricName: "JobsFailed", threshold: 10, statistic: "Sum", period: 300, alarmActions: [topic], okActions: [topic] },
      FailedJobsAlarm: { metricName: "FailedJobs", threshold: 10, statistic: "Maximum", period: 60, alarmActions: [topic], okActions: [topic] },
    };
    for (const [alarm, want] of Object.entries(expected)) {
      expect(alarms[alarm], alarm).toMatchObject({
        ...want,
        namespace: `Workstream/${stage}`,
        dimensions: { Queue: "ALL" },
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }
  });

  it("graphs every queue metric on the stage's dashboard", () => {
    const dash = one(e(), "aws:cloudwatch/dashboard:Dashboard").inputs;
    expect(dash.dashboardName).toBe(`workstream-${stage}`);
    const body = JSON.parse(String(dash.dashboardBody)) as { widgets: { properties: Inputs }[] };
    const text = JSON.stringify(body);
    for (const m of ["JobsEnqueued", "JobsCompleted", "JobsFailed", "QueueDepth", "InFlight", "DlqDepth",
      "OldestPendingAgeSeconds", "JobDuration", "BacklogPerWorker", "WorkersBusy", "WorkersIdle"]) {
      expect(text, m).toContain(m);
    }
    expect(text).not.toContain("undefined");
    for (const w of body.widgets) expect(w.properties.region).toBe("us-east-1");
    expect(body.widgets[0]!.properties.alarms).toHaveLength(5);
  });

  it("returns the API URL (no /v1: routes add it), dashboard, alerts topic and what runs the jobs", () => {
    expect(e().outputs).toMatchObject({
      api: expect.stringMatching(/^https:\/\/[^/]+$/),
      dashboard: `workstream-${stage}`,
      alertsTopic: expect.stringMatching(/^arn:aws:/),
      workers: name === "prod" ? expect.stringMatching(/^none /) : expect.stringMatching(/^worker\/handler\.ts on /),
    });
  });

  it("retains and protects prod only", () => {
    expect(e().app).toMatchObject(
      stage === "prod"
        ? { name: "workstream", home: "aws", removal: "retain", protect: true }
        : { name: "workstream", home: "aws", removal: "remove", protect: false },
    );
  });
});

describe.each(["dev", "prodWorkers"])("stage %s with a handler", (name) => {
  const e = () => evaluations[name]!;
  const stage = name === "dev" ? "dev" : "prod";
  const settings = settingsFor(stage);

  it("warns about nothing", () => {
    expect(e().stderr).not.toContain("NO workers");
  });

  it("builds the worker image from the repo's Dockerfile with the handler bundled in", () => {
    const image = one(e(), "docker-build:index:Image").inputs;
    expect(image.context).toEqual({ location: e().root });
    expect(image.dockerfile).toEqual({ location: `${e().root}/Dockerfile` });
    expect(image.buildArgs).toEqual({ HANDLER: "worker/handler.ts" });
    expect(image.push).toBe(true);
  });

  it("sizes the worker task for the stage and lets it drain before SIGKILL", () => {
    const task = one(e(), "aws:ecs/taskDefinition:TaskDefinition").inputs;
    expect([task.cpu, task.memory]).toEqual(stage === "prod" ? ["1024", "2048"] : ["256", "512"]);
    const [worker, ...others] = containers(e());
    expect(others).toHaveLength(0);
    expect(worker!.stopTimeout).toBe(120);
    const env = Object.fromEntries((worker!.environment as { name: string; value: string }[]).map((v) => [v.name, v.value]));
    expect(env).toMatchObject({
      WORKSTREAM_HANDLER: "/app/dist/handler.mjs",
      WORKSTREAM_PERMISSION_LEVELS: name === "prodWorkers" ? "autonomous,supervised" : "autonomous",
      WORKSTREAM_CONCURRENCY: "4",
      WORKSTREAM_SHUTDOWN_GRACE_MS: "110000",
      WORKSTREAM_KEY_PREFIX: "ws:",
      WORKSTREAM_METRICS_NAMESPACE: `Workstream/${stage}`,
    });
    if (name === "prodWorkers") {
      // The stage's runtime configuration, plus what only workers read.
      expect(env).toMatchObject({ ...PROD_WORKERS_ENV, WORKSTREAM_QUEUES: "debates,default", WORKSTREAM_LOG_LEVEL: "debug" });
    } else {
      // No queue list: every configured queue, user-defined ones included.
      expect(env).not.toHaveProperty("WORKSTREAM_QUEUES");
    }
    expect(Number(env.WORKSTREAM_SHUTDOWN_GRACE_MS)).toBeLessThan(worker!.stopTimeout * 1000);
    const linked = Object.keys(env).filter((k) => k.startsWith("SST_RESOURCE_") && k !== "SST_RESOURCE_App");
    expect(linked.map((k) => k.slice("SST_RESOURCE_".length)).sort()).toEqual([...WORKER_SECRETS].sort());
  });

  it("runs the service on Fargate (Spot outside prod) within the stage's task bounds", () => {
    const service = one(e(), "aws:ecs/service:Service").inputs;
    if (stage === "prod") expect(service.launchType).toBe("FARGATE");
    else expect(service.capacityProviderStrategies).toContainEqual({ capacityProvider: "FARGATE_SPOT", weight: 1 });
    const target = one(e(), "aws:appautoscaling/target:Target").inputs;
    expect([target.minCapacity, target.maxCapacity]).toEqual(stage === "prod" ? [1, 20] : [1, 2]);
    expect(service.desiredCount).toBe(target.minCapacity);
  });

  it("scales the service only on backlog per worker", () => {
    const target = one(e(), "aws:appautoscaling/target:Target").inputs;
    const policy = one(e(), "aws:appautoscaling/policy:Policy").inputs;
    expect(policy.policyType).toBe("TargetTrackingScaling");
    expect(policy.resourceId).toBe(target.resourceId);
    expect(policy.scalableDimension).toBe("ecs:service:DesiredCount");
    expect(policy.serviceNamespace).toBe("ecs");
    expect(policy.targetTrackingScalingPolicyConfiguration).toEqual({
      targetValue: settings.scaling.targetBacklogPerWorker,
      scaleInCooldown: 300,
      scaleOutCooldown: 60,
      customizedMetricSpecification: {
        namespace: `Workstream/${stage}`,
        metricName: "BacklogPerWorker",
        dimensions: [{ name: "Queue", value: "ALL" }],
        statistic: "Average",
        unit: "Count",
      },
    });
  });

});

describe("stage prod without a handler (the default)", () => {
  const e = () => evaluations.prod!;

  it("creates no workers: no image, VPC, cluster, service or scaling", () => {
    for (const type of [
      "docker-build:index:Image",
      "aws:ec2/vpc:Vpc",
      "aws:ecs/cluster:Cluster",
      "aws:ecs/taskDefinition:TaskDefinition",
      "aws:ecs/service:Service",
      "aws:appautoscaling/target:Target",
      "aws:appautoscaling/policy:Policy",
    ]) {
      expect(ofType(e(), type), type).toHaveLength(0);
    }
  });

  it("says so at deploy time", () => {
    expect(e().stderr).toContain('stage "prod" deploys NO workers: worker.handler is null in infra/settings.ts');
  });

  it("still deploys the API, the crons and the alarms", () => {
    expect(ofType(e(), "aws:lambda/function:Function")).toHaveLength(ROUTES.length + CRONS.length);
    expect(ofType(e(), "aws:cloudwatch/metricAlarm:MetricAlarm")).toHaveLength(5);
  });
});

describe("invalid settings", () => {
  it("fail the deploy with a message naming the setting", async () => {
    await expect(
      evaluateApp("dev", { environment: { WORKSTREAM_REDIS_URL: "redis://x", WORKSTREAM_RETRIES: "5" } as never }),
    ).rejects.toThrow(
      /environment\.WORKSTREAM_REDIS_URL cannot be set here: a secret[\s\S]*environment\.WORKSTREAM_RETRIES is not a variable Workstream reads; allowed: WORKSTREAM_QUEUE_CONFIG/,
    );
  }, 60_000);
});
