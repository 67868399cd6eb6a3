/// <reference path="./.sst/platform/config.d.ts" />

// Only wiring: each concern lives in infra/ and is imported inside run(), because infra modules
// create resources at import time and SST allows that only while run() executes.
export default $config({
  app(input) {
    return {
      name: "workstream",
      // prod keeps its resources (logs, topic, dashboard) when removed; other stages clean up fully.
      removal: input?.stage === "prod" ? "retain" : "remove",
      protect: input?.stage === "prod",
      home: "aws",
    };
  },
  async run() {
    await import("./infra/secrets");
    const { api } = await import("./infra/api");
    await import("./infra/cron");
    const { workersSummary } = await import("./infra/worker");
    const { dashboard, alerts } = await import("./infra/monitoring");
    return {
      api: api.url,
      dashboard: dashboard.dashboardName,
      alertsTopic: alerts.arn,
      workers: workersSummary,
    };
  },
});
