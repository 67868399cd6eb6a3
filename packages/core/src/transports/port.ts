/**
 * The narrow Redis port the engine depends on: running scripts. Every state change and every
 * read the engine makes is a Lua script, so two calls are all a transport must provide, and both
 * transports (Upstash over HTTP, TCP) are billed and behave the same.
 */
export interface RedisPort {
  evalsha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Releases connections; the engine never calls it, its owner does. */
  close(): Promise<void>;
}

/**
 * What a long-running worker needs beyond the port: a blocking wait for new stream entries, so an
 * idle worker costs one command per wait instead of a poll loop. Only TCP transports offer it
 * (Upstash's REST API has no blocking commands).
 */
export interface BlockingRedisPort extends RedisPort {
  /**
   * Blocks until any of `streams` gets an entry newer than its id, or `timeoutMs` passes.
   * Resolves with the keys of the streams that got entries ([] on timeout).
   */
  waitForEntries(streams: ReadonlyArray<{ key: string; afterId: string }>, timeoutMs: number): Promise<string[]>;
  /** Blocks until `key` (a list) has an element, pops it, or `timeoutMs` passes. Resolves true when popped. */
  waitForList?(key: string, timeoutMs: number): Promise<boolean>;
}

export function isNoScriptError(e: unknown): boolean {
  return e instanceof Error && e.message.includes("NOSCRIPT");
}
