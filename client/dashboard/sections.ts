// The dashboard's sections in the DOM: each item is built once and updated in place from the
// view model, and the buttons call the hub and show what happened.
import type { ConnectionState } from "../hub-client.ts";
import { el, type ItemView, KeyedList, setAttr, setText } from "./dom.ts";
import { renderMarkdown } from "./markdown.ts";
import {
  type ApprovalItem,
  type BackendChoice,
  type BackendItem,
  type ChannelItem,
  type DashboardView,
  diffLines,
  type FinishedItem,
  type NewTaskRequest,
  newTaskRequest,
  type QueueItem,
  sparklinePoints,
  type UsageItem,
  type WorkspaceChoices,
} from "./view-model.ts";

/** One answer of a task's transcript, as the card shows it. */
export interface TranscriptEntryView {
  step: number;
  title: string;
  answer: string;
  backend: string;
  from: string | null;
  at: string;
}

/** What the buttons and forms do; each resolves with a sentence for the person or throws an Error to show. */
export interface DashboardActions {
  /** `step`: the step the card shows waiting (the hub refuses a decision on any other). */
  approve(taskId: string, step: number, approvalId?: string): Promise<string>;
  reject(taskId: string, step: number, approvalId?: string): Promise<string>;
  ping(backend: string): Promise<string>;
  prewarm(backend: string): Promise<string>;
  startTask(request: NewTaskRequest): Promise<string>;
  followUp(taskId: string, text: string): Promise<string>;
  /** The task's answers so far, as Markdown ("" before the first). */
  output(taskId: string): Promise<string>;
  transcript(taskId: string): Promise<TranscriptEntryView[]>;
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  closed: "disconnected",
};

export interface DashboardPage {
  render(view: DashboardView): void;
  /** The New task form's workspaces (`GET /api/workspaces`, asked again on every reconnection). */
  setWorkspaces(choices: WorkspaceChoices): void;
  setConnection(state: ConnectionState): void;
  showNotice(text: string | null): void;
}

function byId(doc: Document, id: string): HTMLElement {
  const element = doc.getElementById(id);
  if (!element) throw new Error(`the dashboard page has no #${id}; is index.html from the same build?`);
  return element;
}

export function mountDashboard(doc: Document, actions: DashboardActions): DashboardPage {
  const approvalOutcome = byId(doc, "approval-outcome");
  const lists = {
    queue: new KeyedList<QueueItem>(
      byId(doc, "queue-list"),
      (item) => item.taskId,
      (item) => queueCard(item, actions),
    ),
    approvals: new KeyedList<ApprovalItem>(
      byId(doc, "approvals-list"),
      (item) => item.taskId,
      (item) => approvalCard(item, actions, approvalOutcome),
    ),
    finished: new KeyedList<FinishedItem>(
      byId(doc, "finished-list"),
      (item) => item.taskId,
      (item) => finishedRow(item, actions),
    ),
    backends: new KeyedList<BackendItem>(
      byId(doc, "backends-list"),
      (item) => item.name,
      (item) => backendRow(item, actions),
    ),
    channels: new KeyedList<ChannelItem>(byId(doc, "channels-list"), (item) => item.channel, channelRow),
    usage: new KeyedList<UsageItem>(byId(doc, "usage-list"), (item) => item.backend, usageRow),
  };
  const panels = {
    queue: byId(doc, "queue"),
    approvals: byId(doc, "approvals"),
    finished: byId(doc, "finished"),
    backends: byId(doc, "backends"),
    channels: byId(doc, "channels"),
    usage: byId(doc, "usage"),
  };
  const connection = byId(doc, "connection");
  const notice = byId(doc, "notice");
  const newTask = newTaskForm(doc, actions);

  return {
    render(view) {
      lists.queue.sync(view.queue);
      lists.approvals.sync(view.approvals);
      lists.finished.sync(view.finished);
      lists.backends.sync(view.backends);
      lists.channels.sync(view.channels);
      newTask.setBackends(view.backendChoices);
      lists.usage.sync(view.usage);
      for (const key of Object.keys(panels) as (keyof typeof panels)[]) {
        panels[key].classList.toggle("has-items", view[key].length > 0);
      }
    },
    setWorkspaces(choices) {
      newTask.setWorkspaces(choices);
    },
    setConnection(state) {
      connection.dataset.state = state;
      setText(connection.querySelector(".label") ?? connection, CONNECTION_TEXT[state]);
    },
    showNotice(text) {
      notice.hidden = text === null;
      setText(notice, text ?? "");
    },
  };
}

/** The New task form: Enter (without Shift) or its button starts the task; the outcome shows below. */
function newTaskForm(
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

function queueCard(initial: QueueItem, actions: DashboardActions): ItemView<QueueItem> {
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
  const root = el(
    "li",
    { className: "card", attrs: { "data-task-id": initial.taskId } },
    el("div", { className: "card-head" }, description, badge),
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

/** Runs a button's action, disabling `buttons` meanwhile, and reports into `outcome`. */
async function act(
  buttons: HTMLButtonElement[],
  outcome: HTMLElement,
  run: () => Promise<string>,
  failure = "",
): Promise<void> {
  for (const button of buttons) button.disabled = true;
  outcome.dataset.kind = "pending";
  try {
    setText(outcome, await run());
    outcome.dataset.kind = "ok";
  } catch (error) {
    setText(outcome, `${failure}${(error as Error).message}`);
    outcome.dataset.kind = "error";
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function approvalCard(initial: ApprovalItem, actions: DashboardActions, outcome: HTMLElement): ItemView<ApprovalItem> {
  let current = initial;
  const description = el("span", { className: "description" });
  const channel = el("span", { className: "when" });
  const title = el("div", { className: "approval-title" });
  const detail = el("pre", { className: "approval-what" });
  let shownDetail: string | null = null;
  const approve = el("button", { className: "primary", text: "Approve", attrs: { type: "button" } });
  const reject = el("button", { text: "Reject", attrs: { type: "button" } });
  const buttons = [approve, reject];
  approve.addEventListener("click", () => {
    const item = current;
    void act(
      buttons,
      outcome,
      () => actions.approve(item.taskId, item.step, item.approvalId ?? undefined),
      `Could not approve “${item.description}”: `,
    );
  });
  reject.addEventListener("click", () => {
    const item = current;
    void act(
      buttons,
      outcome,
      () => actions.reject(item.taskId, item.step, item.approvalId ?? undefined),
      `Could not reject “${item.description}”: `,
    );
  });
  const root = el(
    "li",
    { className: "card", attrs: { "data-task-id": initial.taskId } },
    el("div", { className: "card-head" }, description, channel),
    title,
    detail,
    el("div", { className: "actions" }, approve, reject),
  );
  return {
    root,
    update(item) {
      current = item;
      setText(description, item.description);
      setText(channel, item.channelText);
      setText(title, item.whatTitle);
      // Rebuilt only when it changed: a redraw keeps the diff's scroll position.
      const detailKey = `${item.detailKind}\u0000${item.whatDetail}`;
      if (detailKey !== shownDetail) {
        shownDetail = detailKey;
        showApprovalDetail(detail, item);
      }
      setAttr(approve, "aria-label", `Approve ${item.description}`);
      setAttr(reject, "aria-label", `Reject ${item.description}`);
    },
  };
}

/**
 * What an approval would let happen: a diff with each added and removed line marked (ins / del,
 * their +/- kept, so colour is never the only cue), a Bash command as code, or plain text.
 */
function showApprovalDetail(pre: HTMLElement, item: ApprovalItem): void {
  setAttr(pre, "data-kind", item.detailKind);
  if (item.detailKind === "diff") {
    setAttr(pre, "aria-label", `changes: ${item.whatTitle}`);
    pre.replaceChildren(
      ...diffLines(item.whatDetail).map((line) => {
        const tag = line.kind === "add" ? "ins" : line.kind === "remove" ? "del" : "span";
        return el(tag, { className: `diff-line diff-${line.kind}`, text: line.text });
      }),
    );
  } else if (item.detailKind === "command") {
    setAttr(pre, "aria-label", "command");
    pre.replaceChildren(el("code", { className: "command", text: item.whatDetail }));
  } else {
    setAttr(pre, "aria-label", null);
    pre.replaceChildren(item.whatDetail);
  }
}

function finishedRow(initial: FinishedItem, actions: DashboardActions): ItemView<FinishedItem> {
  const badge = el("span", { className: "badge" });
  const description = el("span", { className: "description" });
  const when = el("time", { className: "when" });
  const detail = el("div", { className: "detail" });
  const talk = conversation(initial.taskId, actions);
  const root = el(
    "li",
    { className: "row", attrs: { "data-task-id": initial.taskId } },
    el("div", { className: "row-head" }, badge, description, when),
    detail,
    ...talk.nodes,
  );
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

const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 120, height: 28 };

function backendRow(initial: BackendItem, actions: DashboardActions): ItemView<BackendItem> {
  let current = initial;
  const indicator = el("span", { className: "indicator", attrs: { "aria-hidden": "true" } });
  const name = el("span", { className: "name" });
  const label = el("span", { className: "status-label" });
  const chart = document.createElementNS(SVG, "svg");
  chart.setAttribute("class", "latency-chart");
  chart.setAttribute("viewBox", `0 0 ${CHART.width} ${CHART.height}`);
  chart.setAttribute("role", "img");
  const line = document.createElementNS(SVG, "polyline");
  chart.append(line);
  const latency = el("span", { className: "when" });
  const pinged = el("span", { className: "pinged" });
  const version = el("span", { className: "version" });
  const prewarmed = el("span", { className: "prewarmed" });
  const reason = el("div", { className: "reason" });
  const ping = el("button", { text: "Ping now", attrs: { type: "button" } });
  const prewarm = el("button", { text: "Pre-warm", attrs: { type: "button" } });
  const outcome = el("span", { className: "outcome", attrs: { role: "status", "aria-live": "polite" } });
  ping.addEventListener("click", () => void act([ping, prewarm], outcome, () => actions.ping(current.name)));
  prewarm.addEventListener("click", () => void act([ping, prewarm], outcome, () => actions.prewarm(current.name)));
  const root = el(
    "li",
    { className: "row", attrs: { "data-backend": initial.name } },
    el("div", { className: "row-head" }, indicator, name, label, chart, latency),
    el("div", { className: "meta" }, pinged, version, prewarmed),
    reason,
    el("div", { className: "actions" }, ping, prewarm, outcome),
  );
  return {
    root,
    update(item) {
      current = item;
      setAttr(indicator, "data-status", item.status);
      setAttr(root, "data-status", item.status);
      setText(name, item.name);
      setText(label, item.statusLabel);
      line.setAttribute("points", sparklinePoints(item.latencies, CHART.width, CHART.height));
      chart.setAttribute(
        "aria-label",
        item.latencies.length > 0
          ? `ping latency of the last ${item.latencies.length} pings, ${Math.min(...item.latencies)} to ${Math.max(...item.latencies)} ms`
          : "no ping latency recorded yet",
      );
      setText(latency, item.latencyText);
      setText(pinged, item.pingedText);
      setText(version, item.versionText);
      setText(prewarmed, item.prewarmedText);
      reason.hidden = item.reasonText === null;
      setText(reason, item.reasonText ?? "");
      setAttr(ping, "aria-label", `Ping ${item.name} now`);
      setAttr(prewarm, "aria-label", `Pre-warm ${item.name}`);
    },
  };
}

const BARS = { width: 140, height: 32, gap: 4 };

/** A backend's usage: today and 7 days in words, and a bar per day (tokens), tallest = busiest day. */
function usageRow(initial: UsageItem): ItemView<UsageItem> {
  const name = el("span", { className: "name" });
  const today = el("div", { className: "detail usage-today" });
  const week = el("div", { className: "detail usage-week" });
  const chart = document.createElementNS(SVG, "svg");
  chart.setAttribute("class", "usage-chart");
  chart.setAttribute("viewBox", `0 0 ${BARS.width} ${BARS.height}`);
  chart.setAttribute("role", "img");
  const root = el(
    "li",
    { className: "row", attrs: { "data-backend": initial.backend } },
    el("div", { className: "row-head" }, name, chart),
    today,
    week,
  );
  return {
    root,
    update(item) {
      setText(name, item.backend);
      setText(today, item.todayText);
      setText(week, item.weekText);
      chart.setAttribute("aria-label", `tokens per day, last 7 days: ${item.bars.map((b) => b.label).join("; ")}`);
      const width = (BARS.width - BARS.gap * (item.bars.length - 1)) / Math.max(1, item.bars.length);
      const rects = item.bars.map((bar, i) => {
        const rect = document.createElementNS(SVG, "rect");
        const height = bar.tokens > 0 ? Math.max(1, (bar.heightPercent / 100) * BARS.height) : 0;
        rect.setAttribute("x", (i * (width + BARS.gap)).toFixed(1));
        rect.setAttribute("y", (BARS.height - height).toFixed(1));
        rect.setAttribute("width", width.toFixed(1));
        rect.setAttribute("height", height.toFixed(1));
        rect.setAttribute("data-day", bar.day);
        const title = document.createElementNS(SVG, "title");
        title.textContent = bar.label;
        rect.append(title);
        return rect;
      });
      chart.replaceChildren(...rects);
    },
  };
}

function channelRow(initial: ChannelItem): ItemView<ChannelItem> {
  const name = el("span", { className: "name" });
  const active = el("span", { className: "when" });
  const lastTask = el("div", { className: "detail" });
  const root = el(
    "li",
    { className: "row", attrs: { "data-channel": initial.channel } },
    el("div", { className: "row-head" }, name, active),
    lastTask,
  );
  return {
    root,
    update(item) {
      setText(name, item.channel);
      setText(active, item.activeText);
      setText(lastTask, item.lastTaskText);
    },
  };
}
