/**
 * The seed's three message types as zod schemas: the wire format of producers, workers and
 * controllers. JSON with ISO-8601 dates; enums exactly as the design document names them.
 */
import { z } from "zod";
import { PERMISSION_LEVELS } from "./keys.ts";

export const TaskType = z.enum(["feature", "bugfix", "test", "docs", "refactor", "review"]);
export type TaskType = z.infer<typeof TaskType>;

export const PermissionLevel = z.enum(PERMISSION_LEVELS);
export type PermissionLevel = z.infer<typeof PermissionLevel>;

export const Priority = z.enum(["low", "normal", "high", "critical"]);
export type Priority = z.infer<typeof Priority>;

export const RequestType = z.enum(["clarification", "approval", "question"]);
export type RequestType = z.infer<typeof RequestType>;

export const ResponseType = z.enum(["answer", "instruction", "approval", "rejection"]);
export type ResponseType = z.infer<typeof ResponseType>;

export const GeneratedBy = z.enum(["human", "automated"]);
export type GeneratedBy = z.infer<typeof GeneratedBy>;

/** Ids are caller-chosen strings (UUIDs in the seed); they become part of Redis keys, so no spaces or braces. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:\-]+$/, "ids may contain letters, digits and . _ : - only");

const IsoDate = z.iso.datetime({ offset: true });
const JsonObject = z.record(z.string(), z.unknown());

export const WorkOrderMessage = z.object({
  // Identity
  id: Id,
  task_id: Id,
  work_order_id: Id,
  // Classification
  task_type: TaskType,
  permission_level: PermissionLevel,
  priority: Priority,
  // Context
  repository_url: z.string().min(1).max(2048),
  branch_name: z.string().min(1).max(255),
  issue_number: z.number().int().nonnegative().nullable().default(null),
  pr_number: z.number().int().nonnegative().nullable().default(null),
  files: z.array(z.string().max(4096)).max(10_000).default([]),
  // Instructions
  title: z.string().min(1).max(1000),
  description: z.string().max(100_000),
  requirements: z.array(z.string().max(10_000)).max(1000).default([]),
  // Metadata
  created_at: IsoDate,
  timeout_seconds: z.number().int().positive().max(7 * 24 * 3600).default(3600),
  max_retries: z.number().int().min(0).max(100).default(3),
  retry_count: z.number().int().min(0).default(0),
  // Additional data
  payload: JsonObject.default({}),
  metadata: JsonObject.default({}),
});
export type WorkOrderMessage = z.infer<typeof WorkOrderMessage>;
export type WorkOrderMessageInput = z.input<typeof WorkOrderMessage>;

export const WorkerRequestMessage = z.object({
  id: Id,
  worker_id: Id,
  work_order_id: Id,
  task_id: Id,
  request_type: RequestType,
  message: z.string().min(1).max(100_000),
  context: JsonObject.default({}),
  created_at: IsoDate,
  expires_at: IsoDate,
  // For threaded conversations
  conversation_id: Id,
  parent_message_id: Id.nullable().default(null),
});
export type WorkerRequestMessage = z.infer<typeof WorkerRequestMessage>;

export const ControllerResponseMessage = z.object({
  id: Id,
  request_id: Id,
  worker_id: Id,
  work_order_id: Id,
  response_type: ResponseType,
  message: z.string().max(100_000),
  instructions: z.array(z.string().max(10_000)).max(1000).default([]),
  // Response metadata
  generated_by: GeneratedBy,
  responder_id: z.string().max(256).nullable().default(null),
  created_at: IsoDate,
});
export type ControllerResponseMessage = z.infer<typeof ControllerResponseMessage>;
