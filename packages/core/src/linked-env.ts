/**
 * The deployed entry points' environment: process.env plus the SST secrets linked to that function
 * or container, read through `Resource.<Name>.value` (SST passes them as SST_RESOURCE_<Name>) and
 * exposed under the variable names core's config parsers read. An explicitly set variable wins
 * (tests, the local stack). A secret not linked to this consumer simply stays unset.
 *
 * Imported by path (`@workstream/core/linked-env`), not from the package index: it loads the SST
 * SDK, which library users of the core do not need.
 */
import { Resource } from "sst/resource";

/** A linked secret's value, or undefined when SST links are not active (tests, local stack). */
function linked(name: string): string | undefined {
  try {
    if (!(name in Resource)) return undefined;
    const value = (Resource as unknown as Record<string, { value?: unknown } | undefined>)[name]?.value;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `processEnv` with each unset variable of `fromResource` (variable ← secret name) filled from its linked secret. */
export function linkedEnv(fromResource: Readonly<Record<string, string>>, processEnv: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...processEnv };
  for (const [variable, secret] of Object.entries(fromResource)) {
    if (!env[variable]) env[variable] = linked(secret);
  }
  return env;
}
