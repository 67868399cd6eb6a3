import { randomUUID } from "node:crypto";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, inject, it } from "vitest";
import { Engine, tcpPort } from "../../packages/core/src/index.ts";

/** The cron handlers as Lambda runs them: configuration from the environment at import, literal events. */
describe("cron handlers", () => {
  it("reclaim and metrics run against the configured Redis and CloudWatch", async () => {
    const prefix = `h${randomUUID().slice(0, 8)}:`;
    Object.assign(process.env, {
      WORKSTREAM_REDIS_URL: inject("redisUrl"),
      WORKSTREAM_KEY_PREFIX: prefix,
      WORKSTREAM_NOTIFY_MODE: "off",
      WORKSTREAM_METRICS_NAMESPACE: "HandlerTest",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    const port = tcpPort(inject("redisUrl"));
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    try {
      const engine = new Engine({ redis: port, settings: { keyPrefix: prefix } });
      await engine.enqueue({ id: "j", payload: {} });
      await engine.claim({ workerId: "gone", leaseMs: 1000 });
      await engine.heartbeat("j", 1, { extendMs: 1000 });

      const reclaim = await import("../../functions/cron/reclaim.ts");
      const event = { version: "0", id: "e1", "detail-type": "Scheduled Event", source: "aws.events", account: "1", time: "2026-01-01T00:10:00Z", region: "us-east-1", resources: [], detail: {} };
      expect(await reclaim.handler(event)).toMatchObject({ reclaimed: 0, trimmed: 0, consumersRemoved: 0 });

      const metrics = await import("../../functions/cron/metrics.ts");
      expect(await metrics.handler()).toMatchObject({ status: "published", failedRequests: 0 });
      const inputs = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
      expect(new Set(inputs.map((i) => i.Namespace))).toEqual(new Set(["HandlerTest"]));
      const data = inputs.flatMap((i) => i.MetricData ?? []);
      expect(data.find((d) => d.MetricName === "InFlight" && d.Dimensions?.[0]?.Value === "ALL")?.Value).toBe(1);
    } finally {
      cw.restore();
      await port.close();
    }
  });
});
