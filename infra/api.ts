/**
 * The HTTP API: one API Gateway v2 route per entry of `functions/routes.ts`, each its own Lambda,
 * so a route's permissions, logs and cold starts stay its own.
 */
import { ROUTES } from "../functions/routes";
import { lambdaFunction } from "./lambda";
import { apiLink } from "./secrets";
import { settingsFor } from "./settings";

const settings = settingsFor($app.stage);

export const api = new sst.aws.ApiGatewayV2("Api", {
  // Browsers (the dashboard on another origin) call the API with an API key header.
  cors: { allowHeaders: ["authorization", "content-type", "x-api-key"] },
});

for (const r of ROUTES) {
  api.route(
    `${r.method} ${r.path}`,
    lambdaFunction(r.handler, { link: apiLink, timeout: settings.lambda.apiTimeout }),
  );
}
