export * from "./notifier.ts";
export * from "./config.ts";
export * from "./hooks.ts";
export { deliverCallbacks, notifyOutcome, outcomeMessage, type DeliverCallbacksOptions } from "./callbacks.ts";
export { qstashNotifier, type QStashNotifierOptions } from "./qstash.ts";
export { httpNotifier, type HttpNotifierOptions } from "./http.ts";
export { verifyQStashSignature, QSTASH_SIGNATURE_HEADER, type VerifyQStashInput, type SignatureCheck } from "./verify.ts";
