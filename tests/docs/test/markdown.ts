/** Finds the documents whose examples are run, and the TypeScript/JavaScript code blocks in them. */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Documents left to another test, with the reason. */
export const NOT_HERE: Readonly<Record<string, string>> = {
  "docs/adding-a-backend.md": "its blocks are a backend's files: examples/backend-minimal's tests check they stay in sync",
};

/** One fenced code block. */
export interface CodeBlock {
  /** The document, relative to the repository root (`packages/nn/README.md`). */
  readonly doc: string;
  /** 1-based position among the document's runnable blocks. */
  readonly index: number;
  /** Line of the opening fence. */
  readonly line: number;
  readonly code: string;
}

const RUNNABLE = new Set(["ts", "typescript", "js", "javascript", "mjs"]);

/** Every README of the workspace (root, packages, apps, examples) and every docs/*.md. */
export function documents(): string[] {
  const found = ["README.md"];
  for (const group of ["packages", "apps", "examples", "tests", "benchmarks"]) {
    const dir = join(ROOT, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (existsSync(join(dir, name, "README.md"))) found.push(`${group}/${name}/README.md`);
    }
  }
  for (const name of readdirSync(join(ROOT, "docs")).sort()) if (name.endsWith(".md")) found.push(`docs/${name}`);
  return found.filter((d) => !(d in NOT_HERE));
}

/** The runnable code blocks of a document (fences tagged ts, typescript, js, javascript, mjs). */
export function codeBlocks(doc: string): CodeBlock[] {
  const lines = readFileSync(join(ROOT, doc), "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence!)) body.push(lines[j++]!.slice(indent!.length));
    if (RUNNABLE.has(lang!.toLowerCase())) blocks.push({ doc, index: blocks.length + 1, line: i + 1, code: body.join("\n") });
    i = j;
  }
  return blocks;
}

/** `packages/nn/README.md` block 2 -> `packages-nn-README-2`, a file name. */
export function slug(block: CodeBlock): string {
  return `${relative(".", block.doc)
    .replace(/\.md$/, "")
    .replace(/[^\w]+/g, "-")}-${block.index}`;
}
