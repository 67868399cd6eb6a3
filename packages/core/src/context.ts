import type { EngineSettings } from "./config.ts";
import type { KeySpace } from "./keys.ts";
import type { ScriptName } from "./lua/scripts.generated.ts";
import type { QueueRegistry } from "./queues.ts";

/** What the engine's operation modules share: script runner (prefix and clock applied), clock, keys, config. */
export interface EngineContext {
  /** Runs a script with ARGV = [prefix, now, ...args]. */
  run(name: ScriptName, args: ReadonlyArray<string | number>): Promise<string>;
  /** The same, for scripts that reply with a flat array: the reply as the transport gave it. */
  runRaw(name: ScriptName, args: ReadonlyArray<string | number>): Promise<unknown>;
  now(): number;
  random(): number;
  readonly keys: KeySpace;
  readonly settings: EngineSettings;
  readonly queues: QueueRegistry;
}

/** Lua's cjson encodes an empty table as `{}`; replies that are lists accept it as []. */
export function listFromLua(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 ? [] : v;
}
