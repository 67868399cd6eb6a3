/**
 * Every minute (EventBridge `rate(1 minute)`): publishes queue metrics to CloudWatch (namespace
 * WORKSTREAM_METRICS_NAMESPACE, default "Workstream") and logs seed 1's thresholds. Thin: call
 * core, map the result. A CloudWatch failure does not fail the invocation: the counts stay in
 * Redis and the next run publishes them. Configuration is parsed once at cold start.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  cloudWatchSink,
  configFromEnv,
  connect,
  Engine,
  metricsConfigFromEnv,
  publishMetrics,
  WorkerRegistry,
  type MetricsPublisherDeps,
  type PublishReport,
} from "../../packages/core/src/index.ts";
import { linkedEnv } from "../_lib/linked-env.ts";

export function metricsHandler(deps: MetricsPublisherDeps) {
  return async (): Promise<Omit<PublishReport, "alerts"> & { alerts: number }> => {
    const report = await publishMetrics(deps);
    return { ...report, alerts: report.alerts.length };
  };
}

function depsFromEnv(): MetricsPublisherDeps {
  const env = linkedEnv();
  const { connection, settings } = configFromEnv(env);
  const { namespace, thresholds, backlog } = metricsConfigFromEnv(env);
  const redis = connect(connection);
  const engine = new Engine({ redis, settings });
  // Lease on the outbox is 50 s: keep every CloudWatch call well inside it.
  const client = new CloudWatchClient({ maxAttempts: 3, requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } });
  return { engine, redis, sink: cloudWatchSink(client), namespace, thresholds, backlog, workers: new WorkerRegistry({ redis, keys: engine.keys }) };
}

export const handler = metricsHandler(depsFromEnv());
