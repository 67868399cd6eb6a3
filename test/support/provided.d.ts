// Types for what test/support/global-setup.ts hands to every test through `inject()`.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Private redis-server for the whole run (no AOF); use a unique key prefix per test. */
    redisUrl: string;
    /** Upstash REST stand-in in front of that same redis-server. */
    upstashUrl: string;
    upstashToken: string;
  }
}
