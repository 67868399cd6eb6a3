/**
 * Alarms and a dashboard over the metrics the metrics cron publishes each minute in
 * `Workstream/<stage>` (dimension `Queue`, with `Queue=ALL` for the all-queue aggregate).
 * Alarms watch the aggregate because a CloudWatch alarm needs one concrete series, and the
 * queue set is open (user-defined queues). For seed 1's per-queue thresholds (pending > 100,
 * failed > 10) the aggregate is the stricter test: it is above a threshold whenever a queue is.
 */
import { settingsFor } from "./settings";

const settings = settingsFor($app.stage);
const ns = settings.metricsNamespace;

/** Subscribe people or tools to this topic (see docs/deploy.md): every alarm notifies it. */
export const alerts = new sst.aws.SnsTopic("Alerts");

interface AlarmSpec {
  metricName: string;
  statistic: "Maximum" | "Sum";
  periodSeconds: number;
  threshold: number;
  description: string;
  /**
   * Which state changes notify the Alerts topic: "both" (ALARM and back to OK, the default),
   * "alarm" (only ALARM: the OK that follows is no news) or "none" (dashboard state only).
   */
  notify?: "both" | "alarm" | "none";
}

function alarm(name: string, spec: AlarmSpec) {
  return new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription: spec.description,
    namespace: ns,
    metricName: spec.metricName,
    dimensions: { Queue: "ALL" },
    statistic: spec.statistic,
    period: spec.periodSeconds,
    evaluationPeriods: 1,
    threshold: spec.threshold,
    comparisonOperator: "GreaterThanThreshold",
    // No data means no jobs (or a quiet metrics cron), not trouble.
    treatMissingData: "notBreaching",
    alarmActions: spec.notify === "none" ? [] : [alerts.arn],
    okActions: (spec.notify ?? "both") === "both" ? [alerts.arn] : [],
  });
}

const a = settings.alarms;
export const alarms = {
  /**
   * New DLQ entries: every dead-letter increments its queue's `failed` counter, which the metrics
   * cron publishes each minute as `JobsFailed`, the growth since its previous publish. So the alarm
   * fires for the minute that saw new entries and falls back to OK the next quiet minute: each new
   * batch of dead letters notifies again. Only ALARM notifies (an OK here only means "no new ones
   * this minute"; the entries are still in the DLQ).
   */
  dlqNew: alarm("DlqNewEntriesAlarm", {
    metricName: "JobsFailed",
    statistic: "Sum",
    periodSeconds: 60,
    threshold: 0,
    notify: "alarm",
    description: `New jobs reached the dead-letter queue (${settings.stage}): triage with the dlq API/CLI.`,
  }),
  /**
   * DLQ not empty: a state for the dashboard, not a notification. DLQ entries are kept until cleared
   * (WORKSTREAM_DLQ_RETENTION_DAYS=0), so this stays in ALARM after the first one and would notify
   * nobody about later ones; DlqNewEntriesAlarm does that.
   */
  dlq: alarm("DlqDepthAlarm", {
    metricName: "DlqDepth",
    statistic: "Maximum",
    periodSeconds: 60,
    threshold: a.dlqDepth,
    notify: "none",
    description: `The dead-letter queue is not empty (${settings.stage}): triage with the dlq API/CLI. No notifications: DlqNewEntriesAlarm notifies per new batch.`,
  }),
  queueDepth: alarm("QueueDepthAlarm", {
    metricName: "QueueDepth",
    statistic: "Maximum",
    periodSeconds: 60,
    threshold: a.queueDepth,
    description: `More than ${a.queueDepth} jobs pending (${settings.stage}): workers are not keeping up.`,
  }),
  failed: alarm("JobsFailedAlarm", {
    metricName: "JobsFailed",
    statistic: "Sum",
    periodSeconds: a.failedPeriodSeconds,
    threshold: a.jobsFailed,
    description: `More than ${a.jobsFailed} jobs failed for good (dead-lettered) in ${a.failedPeriodSeconds / 60} min (${settings.stage}).`,
  }),
  /**
   * Seed 1's "failed > 10": jobs in the failed registry (failed for good within the queues' failure
   * TTL), a level rather than a rate. On the aggregate, so it fires whenever any queue's would.
   */
  failedRegistry: alarm("FailedJobsAlarm", {
    metricName: "FailedJobs",
    statistic: "Maximum",
    periodSeconds: 60,
    threshold: a.failedRegistry,
    description: `More than ${a.failedRegistry} jobs in the failed registry (${settings.stage}): triage with the dlq API/CLI.`,
  }),
};

/** One graph per metric, one line per queue (SEARCH picks up user-defined queues too). */
function perQueue(title: string, metric: string, stat: string) {
  return {
    type: "metric",
    width: 12,
    height: 6,
    properties: {
      title,
      stat,
      period: 60,
      metrics: [[{ expression: `SEARCH('{${ns},Queue} MetricName="${metric}"', '${stat}', 60)`, id: "q" }]],
    },
  };
}

function aggregate(title: string, metrics: string[]) {
  return {
    type: "metric",
    width: 12,
    height: 6,
    properties: {
      title,
      stat: "Average",
      period: 60,
      metrics: metrics.map((m) => [ns, m, "Queue", "ALL"]),
    },
  };
}

const region = aws.getRegionOutput().region;

export const dashboard = new aws.cloudwatch.Dashboard("Dashboard", {
  dashboardName: `${$app.name}-${$app.stage}`,
  // $jsonStringify resolves the nested outputs (region, alarm ARNs) before serialising.
  dashboardBody: $jsonStringify({
    widgets: [
      {
        type: "alarm",
        width: 24,
        height: 3,
        properties: { title: "Alarms", alarms: Object.values(alarms).map((x) => x.arn) },
      },
      perQueue("Queue depth (pending)", "QueueDepth", "Maximum"),
      perQueue("In flight (leased)", "InFlight", "Maximum"),
      perQueue("Enqueued", "JobsEnqueued", "Sum"),
      perQueue("Completed", "JobsCompleted", "Sum"),
      perQueue("Failed", "JobsFailed", "Sum"),
      perQueue("Dead-letter depth", "DlqDepth", "Maximum"),
      perQueue("Oldest pending job age (s)", "OldestPendingAgeSeconds", "Maximum"),
      perQueue("Job duration (ms, average)", "JobDuration", "Average"),
      aggregate("Backlog per worker (autoscaling metric)", ["BacklogPerWorker"]),
      aggregate("Workers", ["WorkersBusy", "WorkersIdle"]),
    ].map((w) => ({ ...w, properties: { region, ...w.properties } })),
  }),
});
