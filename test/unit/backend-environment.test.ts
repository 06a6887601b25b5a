// What a backend process sees of the hub's environment: a table of variables in and out.
import { describe, expect, it } from "vitest";
import { backendEnvironment, environmentFor } from "../../server/backends/environment.ts";

const hubEnv = {
  PATH: "/usr/bin",
  HOME: "/home/me",
  LC_ALL: "C.UTF-8",
  ANTHROPIC_API_KEY: "sk-ant",
  OPENAI_API_KEY: "sk-oa",
  SWITCHBOARD_TOKEN: "hub",
  SWITCHBOARD_CONFIG: "x",
  TELEGRAM_BOT_TOKEN: "tg",
  SLACK_BOT_TOKEN: "xoxb",
  SLACK_SIGNING_SECRET: "sig",
  AWS_SECRET_ACCESS_KEY: "aws",
  GITHUB_TOKEN: "gh",
};

describe("backendEnvironment", () => {
  it("keeps what a CLI needs and drops everything else, the hub's secrets above all", () => {
    expect(backendEnvironment({ hubEnv })).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/me",
      LC_ALL: "C.UTF-8",
      ANTHROPIC_API_KEY: "sk-ant",
      OPENAI_API_KEY: "sk-oa",
    });
  });

  it("passes the names on the pass-list, never a hub secret, and puts searchPath first", () => {
    const env = backendEnvironment({
      hubEnv,
      pass: ["GITHUB_TOKEN", "SWITCHBOARD_TOKEN"],
      extra: { FAKE: "1", SLACK_BOT_TOKEN: "smuggled" },
      searchPath: ["/opt/bin"],
    });
    expect(env.GITHUB_TOKEN).toBe("gh");
    expect(env.FAKE).toBe("1");
    expect(env.PATH).toBe(["/opt/bin", "/usr/bin"].join(process.platform === "win32" ? ";" : ":"));
    for (const secret of ["SWITCHBOARD_TOKEN", "SLACK_BOT_TOKEN", "AWS_SECRET_ACCESS_KEY", "SWITCHBOARD_CONFIG"]) {
      expect(env).not.toHaveProperty(secret);
    }
  });
});

describe("environmentFor (one backend's pass-list)", () => {
  it("adds the backend's passed variables to the base, never the hub's own", () => {
    const base = backendEnvironment({ hubEnv });
    const env = environmentFor(base, ["AWS_SECRET_ACCESS_KEY", "TELEGRAM_BOT_TOKEN", "UNSET"], hubEnv);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe("aws");
    expect(env).not.toHaveProperty("TELEGRAM_BOT_TOKEN");
    expect(env).not.toHaveProperty("UNSET");
    expect(base).not.toHaveProperty("AWS_SECRET_ACCESS_KEY");
  });
});
