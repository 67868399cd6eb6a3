/**
 * Runs the security scripts (API keys, audit, lease owner) through the same narrow Redis port and
 * EVALSHA-with-EVAL-fallback path as the engine, with the engine's convention ARGV = [prefix, now, ...].
 */
import { runScript } from "../scripts.ts";
import type { ScriptName } from "../lua/scripts.generated.ts";
import type { RedisPort } from "../transports/port.ts";

export type ScriptRunner = (name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<string>;

export function scriptRunner(port: RedisPort, prefix: string, now: () => number): ScriptRunner {
  return (name, keys, args) => runScript(port, name, keys, [prefix, now(), ...args]);
}

/** Lua's cjson encodes an empty table as `{}`; a reply that is a list accepts it as []. */
export function luaList(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 ? [] : v;
}

/** [k1, v1, k2, v2, ...] → {k1: v1, ...} */
export function pairsToRecord(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
