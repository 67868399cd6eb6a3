import { defineConfig } from "vitest/config";

// Engine tests share one private redis-server started in globalSetup; each test uses its own key prefix.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
