// The wire contract: zod schemas for the documents, every request body and every frame, one
// file a topic in shared/schemas/ (task.ts: tasks and the context; health.ts; usage.ts;
// requests.ts: request bodies; frames.ts: WebSocket frames and errors). Types are inferred from
// the schemas. Like all of shared/, these import nothing else of the project, so client code
// (Node and browser) can share them; everyone imports them from here.
export * from "./schemas/frames.ts";
export * from "./schemas/health.ts";
export * from "./schemas/requests.ts";
export * from "./schemas/task.ts";
export * from "./schemas/usage.ts";
