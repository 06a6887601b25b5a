// The events a hub client emits, derived from two states of a document: a table of (before,
// after) pairs and the events each yields — including a fresh snapshot after a reconnect that
// holds equal but newly parsed objects (no event), and member order that differs (no event).
import { describe, expect, test } from "vitest";
import { type DocumentEvent, healthEvents, taskEvents } from "../../client/document-events.ts";
import type { Context, Health } from "../../shared/schemas.ts";
import { inMinutes, makeBackend, makeContext, makeHealth, makeTask } from "../fixtures/tasks.ts";

const ocr = makeTask({ taskId: "ocr", description: "OCR" });
const push = makeTask({ taskId: "push", description: "Push" });
const ocrMoved = { ...ocr, progress: 0.5, lastUpdate: "page 7" };
const ocrDone = { ...ocr, status: "complete" as const, progress: 1 };
const reparsed = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const reordered = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).reverse()) as T;

const brief = (events: DocumentEvent[]) =>
  events.map(({ event, payload }) =>
    event === "health-changed"
      ? `${event} ${payload.backend} ${payload.previous?.status ?? "none"}->${payload.entry.status}`
      : event === "task-progress"
        ? `${event} ${payload.task.taskId} ${payload.previous ? `from ${payload.previous.progress}` : "new"}`
        : `${event} ${payload.task.taskId} ${payload.task.status}`,
  );

describe("taskEvents", () => {
  test.each<[string, Context | undefined, Context, string[]]>([
    [
      "first snapshot: every active task is new",
      undefined,
      makeContext([ocr, push]),
      ["task-progress ocr new", "task-progress push new"],
    ],
    [
      "first snapshot: finished tasks are history, not news",
      undefined,
      makeContext([], { recentCompleted: [ocrDone] }),
      [],
    ],
    ["a task added", makeContext([ocr]), makeContext([ocr, push]), ["task-progress push new"]],
    ["a task changed", makeContext([ocr, push]), makeContext([ocrMoved, push]), ["task-progress ocr from 0"]],
    ["nothing changed (same objects)", makeContext([ocr]), makeContext([ocr]), []],
    ["nothing changed (a reparsed snapshot)", makeContext([ocr]), reparsed(makeContext([ocr])), []],
    ["nothing changed (members in another order)", makeContext([ocr]), makeContext([reordered(ocr)]), []],
    [
      "a task finished: it left activeTasks for recentCompleted",
      makeContext([ocr, push]),
      makeContext([push], { recentCompleted: [ocrDone] }),
      ["task-completed ocr complete"],
    ],
    [
      "a finished task seen again in a snapshot is not finished twice",
      makeContext([], { recentCompleted: [ocrDone] }),
      reparsed(makeContext([], { recentCompleted: [ocrDone] })),
      [],
    ],
    ["a removed active task says nothing by itself", makeContext([ocr]), makeContext([]), []],
  ])("%s", (_name, before, after, events) => {
    expect(brief(taskEvents(before, after))).toEqual(events);
  });

  test("the payload carries the task and its previous state", () => {
    const [event] = taskEvents(makeContext([ocr]), makeContext([ocrMoved]));
    expect(event).toEqual({ event: "task-progress", payload: { task: ocrMoved, previous: ocr } });
  });
});

describe("healthEvents", () => {
  const warm = makeBackend({ status: "warm" });
  const dead = makeBackend({ status: "dead", reason: "timed out", consecutiveFailures: 1 });
  const ollama = makeBackend({ kind: "ollama", status: "cold" });

  test.each<[string, Health | undefined, Health, string[]]>([
    [
      "first snapshot: every backend",
      undefined,
      makeHealth({ claude: warm, ollama }),
      ["health-changed claude none->warm", "health-changed ollama none->cold"],
    ],
    [
      "one backend changed",
      makeHealth({ claude: warm, ollama }),
      makeHealth({ claude: dead, ollama }),
      ["health-changed claude warm->dead"],
    ],
    [
      "a backend appeared",
      makeHealth({ claude: warm }),
      makeHealth({ claude: warm, ollama }),
      ["health-changed ollama none->cold"],
    ],
    ["nothing changed (a reparsed snapshot)", makeHealth({ claude: warm }), reparsed(makeHealth({ claude: warm })), []],
    [
      "nothing changed but lastUpdated",
      makeHealth({ claude: warm }),
      { ...makeHealth({ claude: warm }), lastUpdated: "2026-03-02T00:00:00.000Z" },
      [],
    ],
    [
      "a change deep inside an entry (a pre-warmed session)",
      makeHealth({ claude: warm }),
      makeHealth({
        claude: {
          ...warm,
          prewarmed: [
            { id: "s1", state: "ready", startedAt: inMinutes(-1), readyAt: inMinutes(0), expiresAt: null, pid: 1 },
          ],
        },
      }),
      ["health-changed claude warm->warm"],
    ],
  ])("%s", (_name, before, after, events) => {
    expect(brief(healthEvents(before, after))).toEqual(events);
  });
});
