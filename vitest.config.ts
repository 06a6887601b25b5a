import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // How tests wait for something: expect.poll(check) in a test, every 10 ms, for at most 10 s
    // (machines under load are slow; a passing wait ends at once); helpers that hooks call too use
    // vi.waitFor with the same interval, since expect.poll works only inside a test.
    expect: { poll: { timeout: 10_000, interval: 10 } },
  },
});
