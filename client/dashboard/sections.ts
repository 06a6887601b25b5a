// The dashboard's page: mounts every section of index.html as a keyed list of cards and rows
// (task-cards.ts, approval-card.ts, status-rows.ts) and shows the connection and notices.

import type { ConnectionState } from "../hub-client.ts";
import type { DashboardActions } from "./actions.ts";
import { approvalCard } from "./approval-card.ts";
import { byId, type ItemView, KeyedList, setText } from "./dom.ts";
import type { WorkspaceChoices } from "./new-task-view.ts";
import { backendRow, channelRow, usageRow } from "./status-rows.ts";
import { finishedRow, newTaskForm, queueCard } from "./task-cards.ts";
import type {
  ApprovalItem,
  BackendItem,
  ChannelItem,
  DashboardView,
  FinishedItem,
  QueueItem,
  UsageItem,
} from "./view-model.ts";

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

export function mountDashboard(doc: Document, actions: DashboardActions): DashboardPage {
  const approvalOutcome = byId(doc, "approval-outcome");
  const list = <T>(id: string, keyOf: (item: T) => string, create: (item: T) => ItemView<T>) =>
    new KeyedList<T>(byId(doc, `${id}-list`), keyOf, create);
  const byTask = (item: { taskId: string }) => item.taskId;
  const lists = {
    queue: list<QueueItem>("queue", byTask, (item) => queueCard(item, actions)),
    approvals: list<ApprovalItem>("approvals", byTask, (item) => approvalCard(item, actions, approvalOutcome)),
    finished: list<FinishedItem>("finished", byTask, (item) => finishedRow(item, actions)),
    backends: list<BackendItem>(
      "backends",
      (item) => item.name,
      (item) => backendRow(item, actions),
    ),
    channels: list<ChannelItem>("channels", (item) => item.channel, channelRow),
    usage: list<UsageItem>("usage", (item) => item.backend, usageRow),
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
