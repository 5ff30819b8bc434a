import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it, onTestFinished } from "vitest";
import { root, tempFolder } from "./packages.js";

describe("browser bundle", () => {
  it("@tessera/tensor + @tessera/backend-webgpu bundle for the browser with no Node-only module", async () => {
    const { dir, remove } = tempFolder("tessera-bundle-");
    onTestFinished(remove);
    const entry = join(dir, "entry.js");
    writeFileSync(
      entry,
      `import * as T from "@tessera/tensor";\nimport "@tessera/backend-webgpu";\nexport async function main() { await T.setBackend("webgpu"); return T.add(T.ones([2]), 1).data(); }\n`,
    );
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      metafile: true,
      nodePaths: [join(root, "tests/install/node_modules")],
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    const nodeOnly = inputs.filter((f) => /node_modules\/(webgpu)\//.test(f) || f.startsWith("node:"));
    expect(nodeOnly).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](fs|path|worker_threads|child_process)["']\)/);
    expect(inputs.some((f) => f.includes("backend-webgpu/dist/"))).toBe(true);
  });
});
