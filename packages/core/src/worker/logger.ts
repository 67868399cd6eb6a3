/** The Worker runtime's logging port: structured, one JSON object per line by default. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface WorkerLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LEVELS)[number];

/**
 * A logger writing one JSON line per record (`{"t":…,"level":…,"msg":…,…fields}`): what CloudWatch
 * Logs and `jq` read well. Error values in fields are reduced to name, message and stack.
 *
 * @example
 * const logger = jsonLogger({ level: "info" }); // to stderr
 * logger.info("worker started", { workerId: "w-1" });
 */
export function jsonLogger(opts: { level?: LogLevel; write?: (line: string) => void } = {}): WorkerLogger {
  const min = LEVELS.indexOf(opts.level ?? "info");
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const log = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (LEVELS.indexOf(level) < min) return;
    const out: Record<string, unknown> = { t: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
    let line: string;
    try {
      line = JSON.stringify(out);
    } catch {
      line = JSON.stringify({ t: out.t, level, msg, fields: "unserializable" });
    }
    write(`${line}\n`);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that drops everything. */
export const silentLogger: WorkerLogger = { debug() {}, info() {}, warn() {}, error() {} };
