import type { z } from "zod";
import { ConfigError } from "./errors.ts";

export type Env = Record<string, string | undefined>;

/**
 * A reader of environment variables validated with zod: an empty variable counts as unset, and a
 * bad value throws a ConfigError naming the variable — at start-up, before any request.
 */
export function envReader(env: Env): <T>(name: string, schema: z.ZodType<T>) => T {
  return (name, schema) => {
    const r = schema.safeParse(env[name] === "" ? undefined : env[name]);
    if (!r.success) throw new ConfigError(`${name}: ${r.error.issues.map((i) => i.message).join("; ")}`, { variable: name });
    return r.data;
  };
}
