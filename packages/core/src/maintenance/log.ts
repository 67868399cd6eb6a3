/**
 * Structured logs for the scheduled functions and delivery code: one JSON object per line, so
 * CloudWatch Logs Insights can filter on `level`, `event` and any field. Injected (tests capture
 * lines; the default writes to stdout/stderr).
 */
export type StructuredLogLevel = "info" | "warn" | "error";

export interface LogRecord {
  level: StructuredLogLevel;
  /** A stable, machine-friendly name such as "metrics.publish_failed". */
  event: string;
  [field: string]: unknown;
}

export interface StructuredLogger {
  log(record: LogRecord): void;
}

/** Writes each record as one JSON line (errors and warnings to stderr), with an ISO timestamp. */
export const jsonLineLogger: StructuredLogger = {
  log(record) {
    const line = JSON.stringify({ time: new Date().toISOString(), ...record });
    if (record.level === "info") process.stdout.write(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  },
};

/** Collects records in memory (tests, or a caller that forwards them elsewhere). */
export function memoryLogger(): StructuredLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, log: (r) => void records.push(r) };
}

/** A short, log-safe description of a thrown value. */
export function describeError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message.slice(0, 1000) };
  return { name: "Error", message: String(e).slice(0, 1000) };
}
