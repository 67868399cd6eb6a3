/**
 * The real sst.config.ts run(), evaluated offline under Pulumi mocks for a prod and a dev stage
 * (harness/evaluate.ts). Asserts what `sst deploy` would create, resource by resource.
 * Needs `bash scripts/sst-install-offline.sh` first; without .sst/platform this file fails.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CRONS, ROUTES } from "../../functions/routes.ts";
import { settingsFor } from "../../infra/settings.ts";
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

const evaluations: Record<string, Evaluation> = {};
beforeAll(async () => {
  const [prod, dev] = await Promise.all([evaluateApp("prod"), evaluateApp("dev")]);
  evaluations.prod = prod;
  evaluations.dev = dev;
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

describe.each(["prod", "dev"])("stage %s", (stage) => {
  const e = () => evaluations[stage]!;
  const settings = settingsFor(stage);

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
      expect((f.inputs.environment as Inputs).variables).toMatchObject({
        WORKSTREAM_KEY_PREFIX: "ws:",
        WORKSTREAM_METRICS_NAMESPACE: `Workstream/${stage}`,
      });
    }
  });

  it("links the API's secrets to every route function", () => {
    const built = builds(e());
    const apiHandlers = new Set(ROUTES.map((r) => r.handler));
    const apiBuilds = [...built.values()].filter((b) => apiHandlers.has(b.handler));
    expect(apiBuilds).toHaveLength(ROUTES.length);
    for (const b of apiBuilds) expect(b.links, b.handler).toEqual([...API_SECRETS].sort());
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

  it("builds the worker image from the repo's Dockerfile", () => {
    const image = one(e(), "docker-build:index:Image").inputs;
    expect(image.context).toEqual({ location: e().root });
    expect(image.dockerfile).toEqual({ location: `${e().root}/Dockerfile` });
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
      WORKSTREAM_QUEUES: "high_priority,default,low_priority",
      WORKSTREAM_CONCURRENCY: "4",
      WORKSTREAM_SHUTDOWN_GRACE_MS: "110000",
      WORKSTREAM_KEY_PREFIX: "ws:",
    });
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

  it("alarms on DLQ depth, queue depth and failures into the Alerts topic", () => {
    const topic = `arn:aws:mock:us-east-1:123456789012:${one(e(), "aws:sns/topic:Topic").name}`;
    const alarms = Object.fromEntries(ofType(e(), "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.inputs.metricName, a.inputs]));
    expect(Object.keys(alarms).sort()).toEqual(["DlqDepth", "JobsFailed", "QueueDepth"]);
    const expected = {
      DlqDepth: { threshold: 0, statistic: "Maximum", period: 60 },
      QueueDepth: { threshold: 100, statistic: "Maximum", period: 60 },
      JobsFailed: { threshold: 10, statistic: "Sum", period: 300 },
    };
    for (const [metric, want] of Object.entries(expected)) {
      expect(alarms[metric], metric).toMatchObject({
        ...want,
        namespace: `Workstream/${stage}`,
        dimensions: { Queue: "ALL" },
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [topic],
        okActions: [topic],
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
    expect(body.widgets[0]!.properties.alarms).toHaveLength(3);
  });

  it("returns the API URL, dashboard and alerts topic", () => {
    expect(e().outputs).toMatchObject({
      api: expect.stringMatching(/^https:\/\//),
      dashboard: `workstream-${stage}`,
      alertsTopic: expect.stringMatching(/^arn:aws:/),
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
