import { dashboardPage } from "../../packages/core/src/dashboard/page.ts";
import { pageHandler } from "../_lib/page.ts";

export const handler = pageHandler("dashboard", dashboardPage);
