/**
 * Runs the engine's Lua scripts: EVALSHA first (one round trip when the server knows the script),
 * EVAL on NOSCRIPT (which also loads it for next time). Every script replies with one JSON string.
 */
import { SCRIPTS, type ScriptName } from "./lua/scripts.generated.ts";
import { isNoScriptError, type RedisPort } from "./transports/port.ts";

export async function runScript(port: RedisPort, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<string> {
  const script = SCRIPTS[name];
  const argv = args.map(String);
  let reply: unknown;
  try {
    reply = await port.evalsha(script.sha, keys, argv);
  } catch (e) {
    if (!isNoScriptError(e)) throw e;
    reply = await port.eval(script.source, keys, argv);
  }
  if (typeof reply !== "string") throw new Error(`script ${name} replied with ${typeof reply}, expected a JSON string`);
  return reply;
}
