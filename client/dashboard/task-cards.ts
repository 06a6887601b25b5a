// The task cards of the dashboard: the New task form, a queued or running task (with its answers
// and a follow-up box), a finished one. Each is built once and updated in place from the view model.
import type { DashboardActions } from "./actions.ts";
import { act, byId, el, type ItemView, listItem, setAttr, setText } from "./dom.ts";
import { renderMarkdown } from "./markdown.ts";
import { type BackendChoice, newTaskRequest, type WorkspaceChoices } from "./new-task-view.ts";
import type { FinishedItem, QueueItem } from "./view-model.ts";

/** The New task form: Enter (without Shift) or its button starts the task; the outcome shows below. */
export function newTaskForm(
  doc: Document,
  actions: DashboardActions,
): { setBackends(choices: BackendChoice[]): void; setWorkspaces(choices: WorkspaceChoices): void } {
  const form = byId(doc, "new-task-form") as HTMLFormElement;
  const description = byId(doc, "new-task-description") as HTMLTextAreaElement;
  const backend = byId(doc, "new-task-backend") as HTMLSelectElement;
  const workspace = byId(doc, "new-task-workspace") as HTMLSelectElement;
  const workspaceChoice = byId(doc, "new-task-workspace-choice");
  const outcome = byId(doc, "new-task-outcome");
  const submit = form.querySelector("button[type=submit]") as HTMLButtonElement;
  workspace.addEventListener("change", () => {
    workspace.dataset.chosen = workspace.value;
  });
  description.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(
      [...new FormData(form).entries()].map(([name, value]) => [name, typeof value === "string" ? value : ""]),
    );
    const request = newTaskRequest(fields);
    void act([submit], outcome, async () => {
      const said = await actions.startTask(request);
      description.value = "";
      return said;
    });
  });
  return {
    setBackends(choices) {
      // The first option ("any") stays; the others follow the health document.
      const wanted = choices.map((choice) => `${choice.name}\u0000${choice.label}`).join("\n");
      if (backend.dataset.choices === wanted) return;
      backend.dataset.choices = wanted;
      const selected = backend.value;
      for (const option of [...backend.options].slice(1)) option.remove();
      for (const choice of choices) backend.append(new Option(choice.label, choice.name));
      backend.value = choices.some((choice) => choice.name === selected) ? selected : "";
    },
    setWorkspaces(choices) {
      // The person's choice stays while the hub still offers it; otherwise the default.
      const chosen = workspace.dataset.chosen;
      workspace.replaceChildren(...choices.options.map((option) => new Option(option.label, option.value)));
      const keep = chosen !== undefined && choices.options.some((option) => option.value === chosen);
      workspace.value = keep ? (chosen as string) : choices.selected;
      workspace.disabled = choices.options.length === 0;
      workspaceChoice.hidden = choices.options.length === 0;
    },
  };
}

/**
 * What every task card carries below its state: the answer so far as Markdown, the transcript one
 * click away, and a follow-up form. The answer is fetched only when `answerKey` changes.
 */
function conversation(
  taskId: string,
  actions: DashboardActions,
): { nodes: HTMLElement[]; update(item: { description: string; answerKey: string | null }): void } {
  let description = "";
  let shownKey: string | null = null;
  let asked = 0;
  const answer = el("div", { className: "answer", attrs: { "aria-label": "answer" } });
  const entries = el("div", { className: "entries" });
  const transcript = el("details", { className: "transcript" }, el("summary", { text: "Transcript" }), entries);
  const input = el("input", {
    attrs: { name: "text", type: "text", required: "", maxlength: "20000", placeholder: "Add to this task…" },
  });
  const send = el("button", { text: "Send", attrs: { type: "submit" } });
  const form = el("form", { className: "follow-up" }, input, send);
  const outcome = el("p", { className: "outcome", attrs: { role: "status", "aria-live": "polite" } });

  async function showAnswer(): Promise<void> {
    const ask = ++asked;
    try {
      const markdown = await actions.output(taskId);
      // A slower, older answer never replaces a newer one.
      if (ask === asked) answer.innerHTML = renderMarkdown(markdown);
    } catch {
      // The card keeps what it showed; the next change asks again.
    }
  }

  async function showTranscript(): Promise<void> {
    try {
      const list = await actions.transcript(taskId);
      entries.replaceChildren(
        ...(list.length === 0
          ? [el("p", { className: "empty", text: "No answer yet." })]
          : list.map((entry) => {
              const body = el("div", { className: "answer" });
              body.innerHTML = renderMarkdown(entry.answer);
              const from = entry.from ? ` · from ${entry.from}` : "";
              return el(
                "div",
                { className: "entry" },
                el("div", { className: "when", text: `Step ${entry.step}: ${entry.title} · ${entry.backend}${from}` }),
                body,
              );
            })),
      );
    } catch (error) {
      entries.replaceChildren(
        el("p", { className: "reason", text: `Could not load the transcript: ${(error as Error).message}` }),
      );
    }
  }

  transcript.addEventListener("toggle", () => {
    if (transcript.open) void showTranscript();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    void act([send], outcome, async () => {
      const said = await actions.followUp(taskId, text);
      input.value = "";
      return said;
    });
  });

  return {
    nodes: [answer, transcript, form, outcome],
    update(item) {
      if (item.description !== description) {
        description = item.description;
        setAttr(input, "aria-label", `Follow-up for ${item.description}`);
        setAttr(send, "aria-label", `Send a follow-up to ${item.description}`);
      }
      if (item.answerKey !== shownKey) {
        shownKey = item.answerKey;
        if (item.answerKey !== null) {
          void showAnswer();
          if (transcript.open) void showTranscript();
        }
      }
    },
  };
}

export function queueCard(initial: QueueItem, actions: DashboardActions): ItemView<QueueItem> {
  const description = el("span", { className: "description" });
  const badge = el("span", { className: "badge" });
  const fill = el("div", { className: "bar-fill" });
  const bar = el(
    "div",
    { className: "bar", attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" } },
    fill,
  );
  const percent = el("span", { className: "percent" });
  const step = el("div", { className: "step" });
  const eta = el("div", { className: "eta" });
  const channel = el("span", { className: "channel" });
  const backend = el("span", { className: "backend" });
  const workspace = el("span", { className: "workspace" });
  const talk = conversation(initial.taskId, actions);
  const root = listItem(
    "card",
    { "data-task-id": initial.taskId },
    [description, badge],
    el("div", { className: "progress-line" }, bar, percent),
    step,
    eta,
    el("div", { className: "meta" }, channel, backend, workspace),
    ...talk.nodes,
  );
  return {
    root,
    update(item) {
      talk.update(item);
      setText(description, item.description);
      setText(badge, item.badge);
      setAttr(badge, "data-status", item.status);
      setAttr(bar, "aria-valuenow", String(item.percent));
      setAttr(bar, "aria-label", `progress of ${item.description}`);
      fill.style.width = `${item.percent}%`;
      setText(percent, item.percentText);
      setText(step, item.stepText);
      setText(eta, item.etaText);
      setText(channel, item.channelText);
      setText(backend, item.backendText);
      setText(workspace, item.workspaceText);
      workspace.hidden = item.workspaceText === "";
    },
  };
}

export function finishedRow(initial: FinishedItem, actions: DashboardActions): ItemView<FinishedItem> {
  const badge = el("span", { className: "badge" });
  const description = el("span", { className: "description" });
  const when = el("time", { className: "when" });
  const detail = el("div", { className: "detail" });
  const talk = conversation(initial.taskId, actions);
  const root = listItem("row", { "data-task-id": initial.taskId }, [badge, description, when], detail, ...talk.nodes);
  return {
    root,
    update(item) {
      talk.update(item);
      setText(badge, item.badge);
      setAttr(badge, "data-status", item.status);
      setText(description, item.description);
      setText(when, item.whenText);
      setAttr(when, "datetime", item.whenIso);
      setText(detail, item.detailText);
      detail.classList.toggle("reason", item.status === "failed");
    },
  };
}
