/**
 * Runs the engine's Lua scripts: EVALSHA first (one round trip when the server knows the script),
 * EVAL on NOSCRIPT (which also loads it for next time). Every script replies with one JSON string.
 */
import { SCRIPTS, type ScriptName } from "./lua/scripts.generated.ts";
import { isNoScriptError, type RedisPort } from "./transports/port.ts";

/** Runs a script and returns its reply as the transport gave it (the hot-path scripts reply with arrays). */
export async function runScriptRaw(port: RedisPort, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  const script = SCRIPTS[name];
  const argv = args.map(String);
  try {
    return await port.evalsha(script.sha, keys, argv);
  } catch (e) {
    if (!isNoScriptError(e)) throw e;
    return await port.eval(script.source, keys, argv);
  }
}

/** Runs a script that replies with one JSON string. */
export async function runScript(port: RedisPort, name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<string> {
  const reply = await runScriptRaw(port, name, keys, args);
  if (typeof reply !== "string") throw new Error(`script ${name} replied with ${typeof reply}, expected a JSON string`);
  return reply;
}
