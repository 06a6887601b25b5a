// The hub's REST calls for every channel, in Node and in the browser: one method per endpoint of
// the contract, the token as a bearer header, and the hub's error body as a typed HubError.
import type {
  Channel,
  Context,
  ErrorBody,
  FollowUpAccepted,
  Health,
  RouteRequest,
  Task,
  Transcript,
  UsageDocument,
  WorkspaceList,
} from "../shared/schemas.ts";

export interface HubApiOptions {
  /** The hub's base URL, e.g. http://127.0.0.1:7433 */
  url: string;
  token?: string | null;
  fetch?: typeof fetch;
  /** The channel this client acts for; sent with actions so the hub records who acted. */
  channel?: Channel;
}

/** A refusal from the hub: its HTTP status and the code and message of its error body. */
export class HubError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "HubError";
    this.status = status;
    this.code = code;
  }
}

export class HubApi {
  readonly options: HubApiOptions;

  constructor(options: HubApiOptions) {
    this.options = options;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const response = await doFetch(new URL(path, this.options.url), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // Every body is JSON but a task's output, which is Markdown.
    const markdown = response.headers.get("content-type")?.startsWith("text/markdown") ?? false;
    const parsed = markdown ? text : text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      throw new HubError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`);
    }
    return parsed as T;
  }

  getContext = () => this.request<Context>("GET", "/api/context");
  getTask = (taskId: string) => this.request<Task>("GET", `/api/context/tasks/${encodeURIComponent(taskId)}`);
  addTask = (task: Record<string, unknown>) => this.request<Task>("POST", "/api/context/tasks", task);
  updateTask = (taskId: string, updates: Record<string, unknown>) =>
    this.request<Task>("PATCH", `/api/context/tasks/${encodeURIComponent(taskId)}`, updates);
  completeTask = (taskId: string, result: Record<string, unknown> = {}) =>
    this.request<Task>("POST", `/api/context/tasks/${encodeURIComponent(taskId)}/complete`, result);
  setChannelActive = (channel: Channel, taskId?: string) =>
    this.request("POST", `/api/channels/${channel}/active`, taskId ? { taskId } : {});
  getChannelState = (channel: Channel) => this.request("GET", `/api/channels/${channel}`);
  getHealth = () => this.request<Health>("GET", "/api/health");
  getUsage = () => this.request<UsageDocument>("GET", "/api/usage");
  ping = (backend: string) => this.request("POST", `/api/health/${encodeURIComponent(backend)}/ping`, {});
  prewarm = (backend: string) => this.request("POST", `/api/health/${encodeURIComponent(backend)}/prewarm`, {});
  /** The configured workspaces a task may name (`workspace` on route), and the default. */
  getWorkspaces = () => this.request<WorkspaceList>("GET", "/api/workspaces");
  route = (request: RouteRequest) => this.request<{ taskId: string }>("POST", "/api/route", request);
  /** A follow-up in the task's conversation: queued after its current step, or reopening it when finished. */
  sendMessage = (taskId: string, text: string, channel: Channel = this.options.channel ?? "cli") =>
    this.request<FollowUpAccepted>("POST", `/api/context/tasks/${encodeURIComponent(taskId)}/messages`, {
      text,
      channel,
    });
  /** The answers so far as Markdown (empty before the first answer). */
  getOutput = (taskId: string) =>
    this.request<string>("GET", `/api/context/tasks/${encodeURIComponent(taskId)}/output`);
  getTranscript = (taskId: string) =>
    this.request<Transcript>("GET", `/api/context/tasks/${encodeURIComponent(taskId)}/transcript`);
  /**
   * `step`: the step the person saw waiting; the hub refuses (409) a decision on any other.
   * `approvalId`: the tool call the person saw; the hub refuses (409) a decision on any other.
   */
  approve = (taskId: string, step?: number, approvalId?: string) =>
    this.act(taskId, "approve", undefined, step, approvalId);
  reject = (taskId: string, reason?: string, step?: number, approvalId?: string) =>
    this.act(taskId, "reject", reason, step, approvalId);
  cancel = (taskId: string) => this.act(taskId, "cancel");

  private act(
    taskId: string,
    action: "approve" | "reject" | "cancel",
    reason?: string,
    step?: number,
    approvalId?: string,
  ) {
    const body: Record<string, string | number> = {};
    if (this.options.channel) body.channel = this.options.channel;
    if (reason) body.reason = reason;
    if (step !== undefined) body.step = step;
    if (approvalId) body.approvalId = approvalId;
    return this.request<Task>("POST", `/api/context/tasks/${encodeURIComponent(taskId)}/${action}`, body);
  }
}
