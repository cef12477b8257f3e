/**
 * `npm run demo:leaks` (examples/leaks-and-telemetry.ts), the README's runnable example of R22
 * and OpenTelemetry: it runs to the end without network, exits 0, and prints no token (R5).
 */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tokenPattern } from "../../src/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("npm run demo:leaks", () => {
  it("R22 a signed report revokes the token, an altered one is refused, reportLeak() works, spans and metrics are recorded; no secret printed", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/leaks-and-telemetry.ts"], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain("POST /hooks/secret-scanning → 200, labels: true_positive, false_positive");
    expect(stdout).toContain("the reported token now: token_revoked");
    expect(stdout).toContain("a report whose body was altered → 401");
    expect(stdout).toMatch(/reportLeak\(second token\) → revoked \(tok_\w+, Ben Berg\)/);
    expect(stdout).toContain('reportLeak("hello") → malformed');
    expect(stdout).toMatch(/spans: .*keyward\.tokens\.reportLeak.*keyward\.authorize/);
    expect(stdout).toContain('keyward.decisions {"keyward.operation":"authorize","keyward.outcome":"denied","keyward.reason":"token_revoked"} = 1');
    expect(stdout.match(tokenPattern({ user: "acmeu", service_user: "acmes" })) ?? []).toEqual([]);
  });
});
