import { httpHandler } from "../_lib/handler.ts";

export const handler = httpHandler("schedulesPut");
