/**
 * Shared Lambda settings, so every API route and cron runs on the same runtime and sees the same
 * key prefix, metrics namespace and runtime configuration (settings.ts `environment`) as the workers.
 */
import { lambdaEnvironment, settingsFor } from "./settings";

const settings = settingsFor($app.stage);

/** Non-secret configuration shared by Lambdas and workers; secrets arrive through `link`. */
export const sharedEnvironment = lambdaEnvironment(settings);

export function lambdaFunction(
  handler: string,
  opts: { link: unknown[]; timeout: `${number} seconds`; permissions?: sst.aws.FunctionArgs["permissions"] },
): sst.aws.FunctionArgs {
  return {
    handler,
    // Lambda runs Node 22 (the worker image's major); arm64 is the cheaper Lambda architecture.
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: settings.lambda.memory,
    timeout: opts.timeout,
    link: opts.link,
    environment: sharedEnvironment,
    permissions: opts.permissions,
  };
}
