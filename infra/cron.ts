/**
 * Maintenance every minute (`functions/routes.ts` CRONS): reclaim expired leases, publish queue
 * metrics. CronV2 (EventBridge Scheduler) because SST 4 deprecates the EventBridge-rule `Cron`.
 * No scheduler retries: the next tick a minute later is the retry.
 */
import { CRONS } from "../functions/routes";
import { lambdaFunction } from "./lambda";
import { cronLink } from "./secrets";
import { settingsFor } from "./settings";

const settings = settingsFor($app.stage);

/** The metrics cron is the only function that writes to CloudWatch (PutMetricData takes no resource ARN). */
const permissions: Record<string, sst.aws.FunctionArgs["permissions"]> = {
  metrics: [{ actions: ["cloudwatch:PutMetricData"], resources: ["*"] }],
};

export const crons = CRONS.map(
  (c) =>
    new sst.aws.CronV2(c.name[0]!.toUpperCase() + c.name.slice(1), {
      schedule: c.schedule,
      function: lambdaFunction(c.handler, {
        link: cronLink,
        timeout: settings.lambda.cronTimeout,
        permissions: permissions[c.name],
      }),
    }),
);
