/**
 * Runs every TypeScript example of the READMEs (root, packages, apps, examples) and of docs/*.md,
 * extracted from the markdown itself, so an example cannot drift from what works. Each runs as
 * a module in a fresh working directory; a probe at the end of each loop body records
 * `T.memory()`, and every loop must end each iteration after its first with the same live
 * tensors and bytes: an example that leaks in a loop fails here.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import "@tessera/backend-cpu";
import * as T from "@tessera/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { type LoopSite, PROBE, instrumentLoops } from "./instrument.js";
import { type CodeBlock, codeBlocks, documents, slug } from "./markdown.js";
import { SETTINGS } from "./settings.js";
import { webgpuUnavailable } from "./webgpu.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const GENERATED = join(HERE, "..", ".tmp", "blocks");
const work = mkdtempSync(join(tmpdir(), "tessera-doc-examples-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The block's code as it is run: the settings' replacements applied (each must match once). */
function asRun(block: CodeBlock): string {
  let code = block.code;
  for (const [from, to] of SETTINGS[`${block.doc}#${block.index}`]?.replace ?? []) {
    const count = code.split(from).length - 1;
    if (count !== 1)
      throw new Error(
        `${block.doc} block ${block.index}: the text ${JSON.stringify(from)} appears ${count} times (expected once); update tests/docs/test/settings.ts`,
      );
    code = code.replace(from, to);
  }
  return code;
}

/** Live tensors and bytes after each iteration of each loop. */
type Samples = Map<number, Array<{ tensors: number; bytes: number }>>;

/** Each loop ran at least 3 times and, after its first iteration, ended every one with the same counts. */
function expectFlat(block: CodeBlock, loops: readonly LoopSite[], samples: Samples): void {
  for (const loop of loops) {
    const seen = samples.get(loop.id) ?? [];
    const where = `${block.doc} block ${block.index}, loop at line ${block.line + loop.line} (${loop.text})`;
    expect(seen.length, `${where}: ran ${seen.length} times, too few to tell whether memory stays flat`).toBeGreaterThanOrEqual(3);
    const steady = seen.slice(1).map((s) => `${s.tensors} tensors, ${s.bytes} bytes`);
    expect(new Set(steady).size, `${where}: memory after each iteration: ${steady.join("; ")}`).toBe(1);
  }
}

const blocks = documents().flatMap(codeBlocks);

describe("the examples of the READMEs and docs/", () => {
  it("finds the examples, and every setting names one of them", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const names = new Set(blocks.map((b) => `${b.doc}#${b.index}`));
    expect(Object.keys(SETTINGS).filter((k) => !names.has(k))).toEqual([]);
  });

  for (const block of blocks) {
    const setting = SETTINGS[`${block.doc}#${block.index}`] ?? {};
    it(`${block.doc} block ${block.index} (line ${block.line}) runs, and its loops keep memory flat`, async (ctx) => {
      if (setting.needsWebGPU) {
        const why = await webgpuUnavailable();
        if (why) return ctx.skip(why);
      }
      const { code, loops } = instrumentLoops(asRun(block));
      mkdirSync(GENERATED, { recursive: true });
      const file = join(GENERATED, `${slug(block)}.ts`);
      const prelude = setting.prelude ? `// what the page gives the example (tests/docs/test/settings.ts)\n${setting.prelude}\n// the example\n` : "";
      writeFileSync(file, `// ${block.doc}, block ${block.index} (line ${block.line}), as run by examples.test.ts\n${prelude}${code}\n`);
      const cwd = join(work, slug(block));
      mkdirSync(cwd, { recursive: true });
      for (const [to, from] of Object.entries(setting.files ?? {})) {
        mkdirSync(dirname(join(cwd, to)), { recursive: true });
        symlinkSync(from, join(cwd, to));
      }
      const samples: Samples = new Map();
      (globalThis as Record<string, unknown>)[PROBE] = (id: number) => {
        const m = T.memory();
        samples.set(id, [...(samples.get(id) ?? []), { tensors: m.tensors, bytes: m.bytes }]);
      };
      const home = process.cwd();
      const pageFetch = globalThis.fetch;
      process.chdir(cwd);
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        process.chdir(home);
        globalThis.fetch = pageFetch;
        await T.setBackend("cpu"); // an example may switch backends; the next starts on the default
      }
      expectFlat(block, loops, samples);
    });
  }
});
