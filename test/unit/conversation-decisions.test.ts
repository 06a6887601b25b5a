// The conversation decisions as data: which conversation a step continues, what a turn is told,
// the history sent to a backend that keeps none, and what the CLIs' stream events say.
import { describe, expect, it } from "vitest";
import { streamJsonArgs } from "../../server/backends/claude.ts";
import { execArgs } from "../../server/backends/codex.ts";
import { claudeEvent, codexEvent } from "../../server/backends/stream-events.ts";
import {
  conversationHistory,
  HISTORY_MESSAGES,
  newConversationNote,
  planTurn,
  turnPrompt,
} from "../../server/router/conversation.ts";
import type { TranscriptEntry } from "../../shared/schemas.ts";

const entry = (step: number, answer: string, backend = "claude", id = "s1"): TranscriptEntry => ({
  step,
  title: `T${step}`,
  prompt: `p${step}`,
  answer,
  backend,
  conversation: { backend, id },
  from: null,
  at: "2026-01-01T00:00:00.000Z",
});

describe("planTurn", () => {
  it.each([
    {
      name: "no conversation yet → new, nothing to summarise",
      backend: "claude",
      conversation: null,
      earlier: [],
      mode: "new",
      summarised: 0,
    },
    {
      name: "same backend → continue",
      backend: "claude",
      conversation: { backend: "claude", id: "s1" },
      earlier: [entry(1, "a")],
      mode: "continue",
      summarised: 0,
    },
    {
      name: "another backend (a retry) → new, told the earlier answers",
      backend: "codex",
      conversation: { backend: "claude", id: "s1" },
      earlier: [entry(1, "a"), entry(2, "b")],
      mode: "new",
      summarised: 2,
    },
    {
      name: "a step answered twice is summarised once, latest answer",
      backend: "codex",
      conversation: null,
      earlier: [entry(1, "old"), entry(1, "new")],
      mode: "new",
      summarised: 1,
    },
  ])("$name", ({ backend, conversation, earlier, mode, summarised }) => {
    const turn = planTurn({ backend, conversation, earlier });
    expect(turn.mode).toBe(mode);
    if (turn.mode === "new") expect(turn.summarised).toHaveLength(summarised);
  });
});

describe("turnPrompt", () => {
  const base = { description: "Do the taxes", titles: ["Gather", "Sum up"], prompt: "gather", followUp: false };
  it.each([
    {
      name: "a one-step task whose prompt is its description is sent as it is",
      input: {
        ...base,
        titles: ["Do the taxes"],
        prompt: "Do the taxes",
        index: 0,
        turn: { mode: "new" as const, summarised: [] },
      },
      prompt: "Do the taxes",
    },
    {
      name: "a new conversation hears the description and the plan first",
      input: { ...base, index: 0, turn: { mode: "new" as const, summarised: [] } },
      prompt: "Task: Do the taxes\n\nPlan:\n1. Gather\n2. Sum up\n\nStep 1 of 2: Gather\n\ngather",
    },
    {
      name: "a continued conversation hears only the step",
      input: {
        ...base,
        index: 1,
        prompt: "sum it up",
        turn: { mode: "continue" as const, conversation: { backend: "claude", id: "s" } },
      },
      prompt: "Step 2 of 2: Sum up\n\nsum it up",
    },
    {
      name: "a follow-up is its text",
      input: {
        ...base,
        titles: ["Gather", "and 2023"],
        index: 1,
        prompt: "and 2023",
        followUp: true,
        turn: { mode: "continue" as const, conversation: { backend: "claude", id: "s" } },
      },
      prompt: "and 2023",
    },
    {
      name: "a new conversation after earlier answers is told them",
      input: {
        ...base,
        index: 1,
        prompt: "sum it up",
        turn: { mode: "new" as const, summarised: [entry(1, "found  three\nfiles")] },
      },
      prompt:
        "Task: Do the taxes\n\nPlan:\n1. Gather\n2. Sum up\n\nEarlier answers in this task (from claude; this is a new conversation):\nStep 1 (T1): found three files\n\nStep 2 of 2: Sum up\n\nsum it up",
    },
  ])("$name", ({ input, prompt }) => {
    expect(turnPrompt(input)).toBe(prompt);
  });

  it("newConversationNote speaks only of a new conversation that was told earlier answers", () => {
    expect(newConversationNote({ mode: "new", summarised: [entry(1, "a"), entry(2, "b")] }, "codex")).toBe(
      "a new conversation on codex, with a summary of 2 earlier answers",
    );
    expect(newConversationNote({ mode: "new", summarised: [] }, "codex")).toBeNull();
    expect(newConversationNote({ mode: "continue", conversation: { backend: "codex", id: "t" } }, "codex")).toBeNull();
  });
});

describe("conversationHistory", () => {
  it("holds this conversation's turns only, oldest first", () => {
    const entries = [entry(1, "a1"), entry(2, "b1", "codex", "t1"), entry(3, "c1")];
    expect(conversationHistory(entries, { backend: "claude", id: "s1" })).toEqual([
      { role: "user", content: "p1" },
      { role: "assistant", content: "a1" },
      { role: "user", content: "p3" },
      { role: "assistant", content: "c1" },
    ]);
  });

  it("drops the oldest turns beyond the message and character bounds", () => {
    const many = Array.from({ length: 30 }, (_, i) => entry(i + 1, `a${i + 1}`));
    const history = conversationHistory(many, { backend: "claude", id: "s1" });
    expect(history).toHaveLength(HISTORY_MESSAGES);
    expect(history[0]).toEqual({ role: "user", content: "p11" });
    const long = [entry(1, "x".repeat(50_000)), entry(2, "y".repeat(50_000))];
    expect(conversationHistory(long, { backend: "claude", id: "s1" }).map((t) => t.content)).toEqual([
      "p2",
      "y".repeat(50_000),
    ]);
  });
});

describe("argv per backend", () => {
  const settings = { kind: "codex", enabled: true, preference: 0, args: [] } as unknown as Parameters<
    typeof execArgs
  >[0];
  it.each([
    { resume: undefined, argv: ["exec", "--json", "-"] },
    { resume: "t-1", argv: ["exec", "resume", "--json", "t-1", "-"] },
  ])("codex, resume $resume → $argv", ({ resume, argv }) => {
    expect(execArgs(settings, undefined, resume)).toEqual(argv);
  });

  it("claude continues a session with --resume <id>", () => {
    expect(streamJsonArgs({ ...settings, kind: "claude" }, { resume: "s-1" })).toEqual([
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
      "--resume",
      "s-1",
    ]);
  });
});

describe("stream events", () => {
  it.each([
    { event: { type: "system", subtype: "init", session_id: "s1" }, read: { kind: "init", sessionId: "s1" } },
    {
      event: { type: "assistant", message: { content: [{ type: "text", text: "hi" }, { type: "tool_use" }] } },
      read: { kind: "text", text: "hi" },
    },
    { event: { type: "assistant", message: { content: [{ type: "tool_use" }] } }, read: { kind: "other" } },
    {
      event: { type: "result", subtype: "success", result: "done", session_id: "s1" },
      read: { kind: "result", ok: true, text: "done", sessionId: "s1", detail: "" },
    },
    {
      event: { type: "result", subtype: "error_max_turns", is_error: true },
      read: { kind: "result", ok: false, text: null, sessionId: null, detail: "error_max_turns" },
    },
    { event: { type: "stream_event" }, read: { kind: "other" } },
  ])("claude $event.type → $read.kind", ({ event, read }) => {
    expect(claudeEvent(event)).toEqual(read);
  });

  it.each([
    { event: { type: "thread.started", thread_id: "t1" }, read: { kind: "thread", threadId: "t1" } },
    {
      event: { type: "item.completed", item: { type: "agent_message", text: "ok" } },
      read: { kind: "message", text: "ok" },
    },
    { event: { msg: { type: "agent_message", message: "old" } }, read: { kind: "message", text: "old" } },
    { event: { type: "turn.failed", error: { message: "quota" } }, read: { kind: "failure", message: "quota" } },
    { event: { type: "error" }, read: { kind: "failure", message: "error" } },
    { event: { type: "turn.completed" }, read: { kind: "other" } },
  ])("codex $event.type → $read.kind", ({ event, read }) => {
    expect(codexEvent(event)).toEqual(read);
  });
});
