// The hub's process entry point: `npm start -- [--config FILE] [--port N] [--host H] [--data-dir DIR]`.

// One of the two places server/ imports client/ (the other is server/build.ts, which bundles the
// entry points and shares client/launch.js's freshness check): the entry point starts the channels
// and the notifier config.json enables, gives the Slack endpoint its views (client/slack/blocks.ts)
// and lets the package's functions act on this process's own hub (registerLocalHub).
// test/unit/import-boundaries.test.ts checks that nothing else does.
import "./zod-jitless.ts"; // first: before any schema is built
import { isChatSetupError, prepareChatChannels } from "../client/chat-channels.ts";
import { registerLocalHub } from "../client/package/local-hub.ts";
import type { startVoiceChannel } from "../client/voice/voice-channel.ts";
import { unresolvableHost } from "../shared/access-policy.ts";
import { ConfigError } from "./config.ts";
import { createLogger } from "./log.ts";
import { StartupError, startHub } from "./start.ts";
import { parseStartArgs, readSecrets, resolveConfig } from "./start-options.ts";

async function main(): Promise<void> {
  let config: Awaited<ReturnType<typeof resolveConfig>>;
  try {
    config = await resolveConfig(parseStartArgs(process.argv.slice(2)));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const secrets = readSecrets();

  // Telegram and Slack: a missing token or chat list is a start-up error, before anything listens.
  let chat: ReturnType<typeof prepareChatChannels>;
  try {
    chat = prepareChatChannels(config, process.env);
  } catch (error) {
    if (!isChatSetupError(error)) throw error;
    process.stderr.write(`switchboard: ${error.message}\n`);
    process.exit(2);
  }
  // Thread replies go to the Slack adapter, which starts once the hub listens.
  let chatChannels: Awaited<ReturnType<typeof chat.start>> | null = null;
  // Loaded only when Slack is set up (like the voice channel): its request schemas and views are
  // otherwise built at every start for nothing.
  const slackRoutes = chat.slackSigningSecret
    ? {
        plugins: [
          (await import("./slack-endpoint.ts")).slackEndpoint({
            signingSecret: chat.slackSigningSecret,
            access: { channels: config.slack.channels, teamId: config.slack.teamId, userIds: config.slack.userIds },
            views: (await import("../client/slack/blocks.ts")).slackViews,
            hubToken: secrets.token,
            logger,
            ...(config.slack.startAdapter ? { onThreadReply: (reply) => chatChannels?.slackThreadReply(reply) } : {}),
          }),
        ],
      }
    : {};

  let running: Awaited<ReturnType<typeof startHub>>;
  try {
    running = await startHub({ config, secrets, logger, ...slackRoutes });
  } catch (error) {
    if (error instanceof StartupError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      process.stderr.write(`switchboard: ${(error as Error).message}\n`);
      process.exit(2);
    }
    // A port or data directory that cannot be used is a person's problem to fix, told in one
    // line, not a stack trace.
    const { code, syscall, path } = error as NodeJS.ErrnoException;
    // A name that resolved for the bind check but not when listening (its DNS changed between).
    if (code && syscall === "getaddrinfo") {
      process.stderr.write(`switchboard: ${unresolvableHost(config.host, code)}\n`);
      process.exit(2);
    }
    if (code && syscall === "listen") {
      process.stderr.write(
        `switchboard: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}. Choose another --port.\n`,
      );
      process.exit(2);
    }
    if (code && path?.startsWith(config.dataDir)) {
      process.stderr.write(
        `switchboard: cannot use the data directory ${config.dataDir}: ${(error as Error).message}. ` +
          "Point --data-dir (or dataDir in config.json) at a writable directory.\n",
      );
      process.exit(2);
    }
    throw error;
  }
  // switchboard/session and switchboard/warmup loaded in this process act on this hub directly.
  registerLocalHub({ taskContext: running.taskContext, warmStandby: running.warmStandby });

  let voice: Awaited<ReturnType<typeof startVoiceChannel>> | null = null;
  if (config.voice.enabled) {
    try {
      // Loaded only when enabled, like the chat adapters: a hub without voice never evaluates it.
      const { startVoiceChannel } = await import("../client/voice/voice-channel.ts");
      voice = await startVoiceChannel({
        hubUrl: running.url,
        token: secrets.token,
        settings: config.voice,
        security: config.security,
        log: (message) => logger.warn(message),
      });
    } catch (error) {
      process.stderr.write(`switchboard: the voice channel could not start: ${(error as Error).message}\n`);
      await running.close();
      process.exit(2);
    }
  }

  chatChannels = await chat.start(running.url, secrets.token, logger);
  const runningChannels = chatChannels;
  // config.json notify: OpenClaw and other commands run on task and backend events. Loaded only
  // when one is configured, like the chat adapters: the hub's bundle evaluates it only then.
  const wantsNotifier = config.notify.openclaw.enabled || config.notify.commands.length > 0;
  const notifier = wantsNotifier
    ? await (await import("../client/notify/notifier.ts")).startNotifier({
        hubUrl: running.url,
        token: secrets.token,
        settings: config.notify,
        log: (message) => logger.warn(message),
        ...(running.claimOnce ? { claim: running.claimOnce } : {}),
      })
    : null;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    const forced = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, 5000);
    forced.unref();
    await voice?.close();
    await runningChannels.stop();
    await notifier?.close();
    await running.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  process.stdout.write(`switchboard: listening on ${running.url} (data in ${config.dataDir})\n`);
  // Like Jupyter: the one address that opens the dashboard with the token (the page then drops it from the address bar).
  const dashboardQuery = secrets.token ? `?token=${encodeURIComponent(secrets.token)}` : "";
  if (voice)
    process.stdout.write(`switchboard: voice channel listening on ${voice.url} (GET /status, POST /utterance)\n`);
  for (const line of runningChannels.lines) process.stdout.write(`switchboard: ${line}\n`);
  process.stdout.write(`switchboard: dashboard at ${running.url}/${dashboardQuery}\n`);
}

/** Resolves once the hub listens and has said where (the process entry saves its code cache then). */
export const listening: Promise<void> = main();
