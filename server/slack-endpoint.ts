// Slack's requests to the hub — the `/switchboard` slash command and Approve / Reject presses —
// verified with the signing secret, then carried out through the hub's own REST contract. The
// signature check and the requests' shapes are pure, in slack-requests.ts; who may act, in
// slack-access.ts.
//
// Why this split: Slack must reach a public HTTP endpoint, and the hub is the one process that
// serves HTTP, so the endpoint lives here (server/). Signature checking is a security boundary
// and stays next to the hub's other access checks. Acting goes through the contract routes
// (app.inject: same validation, same errors, same one way of changing a document as every other
// channel), so it works whoever implements approve/reject. Only the wording of replies comes
// from client/slack/blocks.ts: server/ may not import client/, so the entry point hands those
// views in. The Slack adapter (client/slack/) only posts and updates task messages; it hears the
// effect of a press through its hub subscription like any other change.

import type { FastifyInstance } from "fastify";
import type { Context, Health, Task } from "../shared/schemas.ts";
import type { SlackThreadReply } from "../shared/slack-thread-reply.ts";
import { parseInput, SwitchboardError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { markRoutesPublic } from "./route-access.ts";
import {
  createSeenSignatures,
  type SlackAccess,
  type SlackAction,
  type SlackRequester,
  slackAccess,
} from "./slack-access.ts";
import {
  approvalButton,
  asThreadReply,
  blockActionsSchema,
  eventEnvelopeSchema,
  type SignatureCheck,
  SLACK_MAX_AGE_SECONDS,
  slashCommandSchema,
  verifySlackSignature,
} from "./slack-requests.ts";
import { createSlackResponder, SLACK_RESPONSE_ORIGIN } from "./slack-response.ts";

/** Routes under this prefix authenticate by Slack signature instead of the hub token. */
export const SLACK_PATH_PREFIX = "/api/slack/";
export const SLACK_COMMANDS_PATH = `${SLACK_PATH_PREFIX}commands`;
export const SLACK_INTERACTIONS_PATH = `${SLACK_PATH_PREFIX}interactions`;
export const SLACK_EVENTS_PATH = `${SLACK_PATH_PREFIX}events`;
/** Slack's own requests are a few kilobytes; anything far larger is not from Slack. */
const SLACK_BODY_LIMIT = 64 * 1024;

export interface SlackReply {
  text: string;
  blocks: unknown[];
}

/** How replies read; client/slack/blocks.ts provides them (through the entry point). */
export interface SlackViews {
  status(context: Context, health: Health, now: Date): SlackReply;
  task(task: Task | null, taskId: string, context: Context, now: Date): SlackReply;
  started(taskId: string, description: string, workspace?: string): SlackReply;
  notTaken(action: "start" | "follow-up", reason: string): SlackReply;
  /** What is wrong with a new task's text, for the person, or null. */
  textProblem(text: string): string | null;
  /** A new task's text as typed: "in workspace site: …" names its workspace (client/intake.ts). */
  parseStart(text: string): { text: string; workspace?: string };
}

export interface SlackEndpointOptions {
  signingSecret: string;
  /** Which team, channels and people the hub acts for (slack.teamId, slack.channels, slack.userIds). */
  access: SlackAccess;
  views: SlackViews;
  /** The hub's own token, so that actions pass its check like any other client's. */
  hubToken: string | null;
  logger: Logger;
  now?: () => number;
  maxAgeSeconds?: number;
  /**
   * Where thread replies go: the Slack adapter, which knows which message belongs to which task
   * and continues that task's conversation. Without it (the adapter runs elsewhere) thread
   * replies are acknowledged to Slack and logged.
   */
  onThreadReply?: (reply: SlackThreadReply) => void;
  /** Origins a press's response_url may have (default Slack's, https://hooks.slack.com). */
  responseOrigins?: string[];
}

/** Requesters refused, remembered so each is logged once; past this many, further ones are not logged. */
const MAX_REFUSALS_LOGGED = 1000;

/** Event ids already handled, so a retried delivery (Slack retries after 3 s) acts once. */
const SEEN_EVENTS_LIMIT = 1000;

export function slackEndpoint(options: SlackEndpointOptions): (app: FastifyInstance) => Promise<void> {
  const now = options.now ?? Date.now;
  const { logger } = options;
  const maxAgeSeconds = options.maxAgeSeconds ?? SLACK_MAX_AGE_SECONDS;
  const seenSignatures = createSeenSignatures(maxAgeSeconds);
  const refusalsLogged = new Set<string>();

  /** Whether the hub acts for this requester; a refusal is logged once per requester and action. */
  function allowed(who: SlackRequester, action: SlackAction): { ok: true } | { ok: false; reason: string } {
    const decision = slackAccess(options.access, who, action);
    if (!decision.ok) {
      const key = [action, who.team, who.channelId, who.user].join("\u0000");
      if (!refusalsLogged.has(key) && refusalsLogged.size < MAX_REFUSALS_LOGGED) {
        refusalsLogged.add(key);
        logger.warn(`slack: refused to ${action}: ${decision.reason} (logged once)`);
      }
    }
    return decision;
  }

  const respond = createSlackResponder({
    origins: options.responseOrigins ?? [SLACK_RESPONSE_ORIGIN],
    logger,
  });

  return async (app) => {
    // Encapsulated: only these routes take form bodies, and they keep them raw for the signature.
    await app.register(async (scope) => {
      // Public to the token rule: every route here is checked by signature instead (preHandler).
      markRoutesPublic(scope);
      // Commands and interactions come form-encoded, events as JSON: both kept raw for the signature.
      scope.removeContentTypeParser("application/json");
      scope.addContentTypeParser(
        ["application/x-www-form-urlencoded", "application/json"],
        { parseAs: "string", bodyLimit: SLACK_BODY_LIMIT },
        (_request, body, done) => done(null, body),
      );

      scope.addHook("preHandler", async (request) => {
        const rawBody = typeof request.body === "string" ? request.body : null;
        let check: SignatureCheck =
          rawBody === null
            ? { ok: false, reason: "not a Slack request: expected a signed form or JSON body" }
            : verifySlackSignature({
                secret: options.signingSecret,
                timestamp: header(request.headers["x-slack-request-timestamp"]),
                signature: header(request.headers["x-slack-signature"]),
                rawBody,
                nowMs: now(),
                maxAgeSeconds,
              });
        // A signature seen before is the same request again: acted on once, whoever resends it.
        if (
          check.ok &&
          seenSignatures.seenBefore(
            header(request.headers["x-slack-signature"]) as string,
            Number(header(request.headers["x-slack-request-timestamp"])),
            now(),
          )
        ) {
          check = { ok: false, reason: "this signed request was already received (a replay); nothing was done" };
        }
        if (!check.ok) {
          // The route's own path: a query string (which may carry anything) never reaches the log.
          logger.warn(`slack: refused ${request.method} ${request.routeOptions.url}: ${check.reason}`);
          throw new SwitchboardError("unauthorized", check.reason);
        }
      });

      scope.post(SLACK_COMMANDS_PATH, async (request) => {
        const form = Object.fromEntries(new URLSearchParams(request.body as string));
        const command = parseInput(slashCommandSchema, form, "slash command");
        const { text } = command;
        const [verb = "status", ...rest] = text.trim().split(/\s+/).filter(Boolean);
        const at = new Date(now());
        const who = {
          team: command.team_id,
          channelId: command.channel_id,
          channelName: command.channel_name,
          user: command.user_id,
        };
        // Answered privately and nothing done: the person learns why, the hub's state stays as it was.
        const refusal = allowed(who, verb === "new" ? "start" : "read");
        if (!refusal.ok) {
          return ephemeral({
            text: `Switchboard does not act on this: ${refusal.reason}. Whoever runs the hub can add the channel to slack.channels or you to slack.userIds.`,
            blocks: [],
          });
        }
        // Marking the channel waits for the hub's disk; the reads need not wait for it.
        if (verb === "status") {
          const [context, health] = await Promise.all([
            hubCall<Context>(app, options.hubToken, "GET", "/api/context"),
            hubCall<Health>(app, options.hubToken, "GET", "/api/health"),
            markActive(app, options.hubToken),
          ]);
          return ephemeral(options.views.status(context.body, health.body, at));
        }
        if (verb === "new") {
          const { text: description, workspace } = options.views.parseStart(text.trim().replace(/^new\s*/, ""));
          const problem =
            workspace !== undefined && !description
              ? `say what the task should do in workspace ${workspace}: /switchboard new in workspace ${workspace}: <what to do>`
              : options.views.textProblem(description);
          if (problem) return ephemeral(options.views.notTaken("start", problem));
          // A name the hub does not have is its 400, naming the configured workspaces: shown as is.
          const routed = await hubCall<{ taskId?: string; error?: { message: string } }>(
            app,
            options.hubToken,
            "POST",
            "/api/route",
            {
              description: description.trim(),
              startedFrom: "slack",
              ...(workspace === undefined ? {} : { workspace }),
            },
          );
          if (routed.status !== 202 || !routed.body.taskId) {
            const reason = routed.body.error?.message ?? `the hub answered ${routed.status}`;
            logger.warn(`slack: could not start a task: ${reason}`);
            return ephemeral(options.views.notTaken("start", reason));
          }
          return ephemeral(options.views.started(routed.body.taskId, description.trim(), workspace));
        }
        if (verb === "task" && rest.length === 1) {
          const taskId = rest[0] as string;
          const found = await hubCall<Task>(
            app,
            options.hubToken,
            "GET",
            `/api/context/tasks/${encodeURIComponent(taskId)}`,
          );
          const task = found.status === 200 ? found.body : null;
          const [context] = await Promise.all([
            hubCall<Context>(app, options.hubToken, "GET", "/api/context"),
            markActive(app, options.hubToken, task?.taskId),
          ]);
          return ephemeral(options.views.task(task, taskId, context.body, at));
        }
        await markActive(app, options.hubToken);
        return ephemeral({
          text: "Try `/switchboard new <what to do>` to start a task (`/switchboard new in workspace site: <what to do>` starts it in the workspace named site), `/switchboard status`, or `/switchboard task <id>` for one task.",
          blocks: [],
        });
      });

      const seenEvents = new Set<string>();
      let unroutedLogged = false;
      scope.post(SLACK_EVENTS_PATH, async (request, reply) => {
        let body: unknown;
        try {
          body = JSON.parse(request.body as string);
        } catch {
          throw new SwitchboardError("invalid_input", "body: expected Slack's JSON event envelope");
        }
        const envelope = parseInput(eventEnvelopeSchema, body, "event");
        // The handshake Slack makes when the request URL is saved: echo the challenge.
        if (envelope.type === "url_verification") return { challenge: envelope.challenge };
        if (envelope.type !== "event_callback") return reply.code(200).send();
        if (envelope.event_id) {
          if (seenEvents.has(envelope.event_id)) return reply.code(200).send();
          if (seenEvents.size >= SEEN_EVENTS_LIMIT) seenEvents.delete(seenEvents.values().next().value as string);
          seenEvents.add(envelope.event_id);
        }
        const threadReply = asThreadReply(envelope.event);
        if (!threadReply) return reply.code(200).send();
        // Acknowledged all the same: Slack turns off an app's events when too many are refused.
        const who = { team: envelope.team_id, channelId: threadReply.channel, user: threadReply.user };
        if (!allowed(who, "follow-up").ok) return reply.code(200).send();
        if (options.onThreadReply) options.onThreadReply(threadReply);
        else if (!unroutedLogged) {
          unroutedLogged = true;
          logger.warn(
            "slack: a reply in a thread arrived, but the Slack adapter does not run in this hub (slack.startAdapter is false), so it cannot be matched to a task",
          );
        }
        // Slack wants its answer within three seconds; the adapter answers in the thread.
        return reply.code(200).send();
      });

      scope.post(SLACK_INTERACTIONS_PATH, async (request, reply) => {
        const form = new URLSearchParams(request.body as string);
        let payload: unknown;
        try {
          payload = JSON.parse(form.get("payload") ?? "");
        } catch {
          throw new SwitchboardError("invalid_input", "payload: expected Slack's JSON interaction payload");
        }
        const interaction = parseInput(blockActionsSchema, payload, "payload");
        const action = interaction.actions.find((a) => a.action_id === "approve" || a.action_id === "reject");
        // Other interactions (shortcuts, other apps' buttons) are acknowledged and left alone.
        if (interaction.type !== "block_actions" || !action?.value) return reply.code(200).send();
        const who = {
          team: interaction.team?.id ?? undefined,
          channelId: interaction.channel?.id,
          channelName: interaction.channel?.name,
          user: interaction.user?.id,
        };
        const refusal = allowed(who, "decide");
        if (!refusal.ok) throw new SwitchboardError("forbidden", `${refusal.reason}; nothing was decided`);
        const verb = action.action_id === "approve" ? "approved" : "rejected";
        const button = approvalButton(action.value);
        if (!button) {
          // A button from before presses named their step: it cannot say what the person saw.
          logger.warn(`slack: ${action.action_id} refused: the button names no step (an old message)`);
          respond(
            interaction.response_url,
            `Nothing was ${verb}: this button is out of date. Use the buttons on the task's current message, or \`/switchboard status\`.`,
          );
          return reply.code(200).send();
        }
        const { taskId, step, approvalId } = button;
        const path = `/api/context/tasks/${encodeURIComponent(taskId)}/${action.action_id}`;
        // The step and tool call the message showed: the hub decides exactly that, or nothing (409).
        const body = {
          channel: "slack",
          step,
          ...(approvalId ? { approvalId } : {}),
          ...(action.action_id === "reject" ? { reason: "rejected from Slack" } : {}),
        };
        const outcome = await hubCall<{ error?: { message: string } }>(app, options.hubToken, "POST", path, body);
        // A decision marks the channel active in its own change; a refused one does not, so mark it here.
        if (outcome.status >= 400) {
          await markActive(app, options.hubToken, taskId);
          const reason = outcome.body.error?.message ?? `the hub answered ${outcome.status}`;
          logger.warn(`slack: ${action.action_id} of ${taskId} refused: ${reason}`);
          // Told to the person who pressed, privately; the message itself shows the task's real state.
          respond(interaction.response_url, `Nothing was ${verb}: ${reason}`);
        }
        // The task message is updated by the Slack adapter when the hub pushes the change.
        return reply.code(200).send();
      });
    });
  };
}

function ephemeral(view: SlackReply) {
  return { response_type: "ephemeral", text: view.text, blocks: view.blocks };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Records Slack as the channel just used; a task id the hub does not know is left out. */
async function markActive(app: FastifyInstance, token: string | null, taskId?: string): Promise<void> {
  const outcome = await hubCall(app, token, "POST", "/api/channels/slack/active", taskId ? { taskId } : {});
  if (outcome.status === 404 && taskId) await hubCall(app, token, "POST", "/api/channels/slack/active", {});
}

/** One call of the hub's own REST contract, in-process. */
async function hubCall<T>(
  app: FastifyInstance,
  token: string | null,
  method: "GET" | "POST",
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: response.statusCode, body: response.json() as T };
}
