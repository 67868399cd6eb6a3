/**
 * The HTTP API: one API Gateway v2 route per entry of `functions/routes.ts`, each its own Lambda,
 * so a route's permissions, logs and cold starts stay its own.
 */
import { ROUTES } from "../functions/routes";
import { lambdaFunction } from "./lambda";
import { apiLink } from "./secrets";
import { settingsFor } from "./settings";

const settings = settingsFor($app.stage);

// SST's default CORS (any origin, method, header) suits an API authenticated by API-key headers,
// not cookies: the dashboard can call it from any origin.
export const api = new sst.aws.ApiGatewayV2("Api");

for (const r of ROUTES) {
  api.route(
    `${r.method} ${r.path}`,
    // A page (the dashboard) is static: it reads no secret, so it is linked to none.
    lambdaFunction(r.handler, { link: r.kind === "page" ? [] : apiLink, timeout: settings.lambda.apiTimeout }),
  );
}
