/**
 * Commands the deploy docs tell people to paste, run here: the admin key generator must produce a
 * key the API accepts (a malformed AdminBootstrapKey makes every API call fail with a 500).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { bootstrapKey } from "../../packages/core/src/security/api-keys.ts";

const repo = path.resolve(import.meta.dirname, "../..");

describe.each(["docs/deploy.md", "README.md"])("%s", (file) => {
  const text = fs.readFileSync(path.join(repo, file), "utf8");

  it("generates an AdminBootstrapKey the API accepts", async () => {
    const m = /ADMIN_KEY=\$\(node -e "([^"]+)"\)/.exec(text);
    expect(m, "an ADMIN_KEY=$(node -e \"…\") line").not.toBeNull();
    expect(text).toMatch(/npx sst secret set AdminBootstrapKey "\$ADMIN_KEY"/);
    for (let i = 0; i < 5; i++) {
      const { stdout } = await promisify(execFile)(process.execPath, ["-e", m![1]!]);
      expect(() => bootstrapKey(stdout.trim(), "AdminBootstrapKey")).not.toThrow();
    }
    expect(text).not.toMatch(/AdminBootstrapKey\s+"\$\(openssl/);
  });
});
