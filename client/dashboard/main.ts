// The dashboard's entry point: takes the token, subscribes through HubClient and redraws from the
// live mirror on every change (never polling); a local timer only re-phrases relative times.
import { HubClient, HubError } from "../hub-client.ts";
import { refusalReason, sendFollowUp, startTask } from "../intake.ts";
import { followUpSentence, notTakenSentence, startedSentence } from "../phrasing.ts";
import type { DashboardActions } from "./actions.ts";
import { workspaceChoices } from "./new-task-view.ts";
import { mountDashboard } from "./sections.ts";
import { takeToken } from "./token.ts";
import { dashboardView } from "./view-model.ts";

/** How often "3 minutes ago" and "about 12 minutes left" are re-phrased; no network involved. */
const RETELL_INTERVAL_MS = 15_000;

const token = takeToken({
  href: location.href,
  storage: sessionStorage,
  replaceAddress: (url) => history.replaceState(history.state, "", url),
});

const client = new HubClient({
  url: location.origin,
  token,
  channel: "dashboard",
  topics: ["context", "health", "usage"],
});

const actions: DashboardActions = {
  async approve(taskId, step, approvalId) {
    const task = await client.approve(taskId, step, approvalId);
    return `Approved “${task.description}”; it is ${task.status === "pending-approval" ? "still waiting" : task.status} now.`;
  },
  async reject(taskId, step, approvalId) {
    const task = await client.reject(taskId, undefined, step, approvalId);
    return `Rejected “${task.description}”; it is ${task.status} now.`;
  },
  async ping(backend) {
    await client.ping(backend);
    return "pinged";
  },
  async prewarm(backend) {
    await client.prewarm(backend);
    return "pre-warm started";
  },
  async startTask(request) {
    try {
      // newTaskRequest left out any blank choice: the rest goes to the hub as it is.
      const { description, ...choices } = request;
      const { taskId } = await startTask(client, description, "dashboard", choices);
      return `${startedSentence(request)} (${taskId}). Its card is in the live queue.`;
    } catch (error) {
      throw new Error(`${notTakenSentence("start", refusalReason(error))}.`);
    }
  },
  async followUp(taskId, text) {
    try {
      const { step } = await sendFollowUp(client, taskId, text, "dashboard");
      const task = [...(client.context?.activeTasks ?? []), ...(client.context?.recentCompleted ?? [])].find(
        (t) => t.taskId === taskId,
      );
      return `${followUpSentence(task ?? { description: taskId }, step)}.`;
    } catch (error) {
      throw new Error(`${notTakenSentence("follow-up", refusalReason(error))}.`);
    }
  },
  output: (taskId) => client.getOutput(taskId),
  async transcript(taskId) {
    return (await client.getTranscript(taskId)).entries;
  },
};

const page = mountDashboard(document, actions);

let drawScheduled = false;
function draw(): void {
  drawScheduled = false;
  page.render(dashboardView(client.context, client.health, new Date(), client.usage));
}
/** Coalesces a burst of patches into one redraw. */
function scheduleDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  queueMicrotask(draw);
}

client.on("change", scheduleDraw);
client.on("connection", ({ state }) => {
  page.setConnection(state);
  if (state === "live") {
    page.showNotice(null);
    void showWorkspaces();
  }
});

/** The New task form's workspaces, asked on every (re)connection: a restarted hub may have others. */
async function showWorkspaces(): Promise<void> {
  try {
    page.setWorkspaces(workspaceChoices(await client.getWorkspaces()));
  } catch {
    // The form keeps what it offered; the next connection asks again.
  }
}
setInterval(scheduleDraw, RETELL_INTERVAL_MS);

page.setConnection(client.state);
void client.connect();
void explainRefusal();

/**
 * A browser cannot read why a WebSocket upgrade was refused, so one REST call at start tells a
 * missing or wrong token (or a refused origin) apart from a hub that is simply not there.
 */
async function explainRefusal(): Promise<void> {
  try {
    await client.request("GET", "/api/context");
  } catch (error) {
    if (!(error instanceof HubError)) return;
    if (error.status === 401) {
      page.showNotice(
        token
          ? "The hub refused this dashboard's token. Open the dashboard address the hub printed when it started (it ends in ?token=…)."
          : "This hub needs a token. Open the dashboard address the hub printed when it started (it ends in ?token=…).",
      );
    } else if (error.status === 403) {
      page.showNotice(`The hub refused this page: ${error.message}`);
    }
  }
}
