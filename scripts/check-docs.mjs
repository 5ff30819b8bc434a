#!/usr/bin/env node
// Checks the public API's documentation, from the sources (no build needed), and fails listing
// every gap. Run with `pnpm run check-docs`.
//
// - Every public entry point of a published package (each path in its package.json `exports`)
//   is an entry point of the API reference (typedoc.json), so nothing users import is missing.
// - Every export of those entry points has a doc comment, and so does every method, accessor
//   and property that an exported class or interface declares.
// - No function is exported as a `const` holding a call's result (`export const sum =
//   reduction("sum")`): TypeDoc lists those as variables, without parameters.
// - Source files cite only documents that exist in the repository (a `something.md` in a
//   comment resolves from the repository root, the package or the file's folder).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const root = fileURLToPath(new URL("..", import.meta.url));
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const problems = [];

// ---- entry points: package.json exports against typedoc.json ----
const typedoc = readJson(join(root, "typedoc.json"));
const referencePackages = new Set(typedoc.entryPoints.map((p) => join(root, p)));
const entries = [];
for (const name of readdirSync(join(root, "packages")).sort()) {
  const dir = join(root, "packages", name);
  if (!existsSync(join(dir, "package.json"))) continue;
  const pkg = readJson(join(dir, "package.json"));
  if (pkg.private) continue;
  if (!referencePackages.has(dir)) problems.push(`${pkg.name}: not among the API reference's packages (typedoc.json entryPoints)`);
  const own = existsSync(join(dir, "typedoc.json")) ? readJson(join(dir, "typedoc.json")) : {};
  const documented = new Set((own.entryPoints ?? typedoc.packageOptions.entryPoints).map((p) => join(dir, p)));
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    const condition = typeof target === "object" ? target["@tessera/source"] : undefined;
    // a source condition may itself branch by environment ({ browser, default }): the reference
    // documents the default entry; every branch's comments are checked
    const source = typeof condition === "object" && condition !== null ? condition.default : condition;
    if (typeof source !== "string") {
      problems.push(`${pkg.name}: export "${subpath}" has no "@tessera/source" condition naming its source file`);
      continue;
    }
    const file = join(dir, source);
    entries.push(file);
    if (typeof condition === "object") for (const branch of Object.values(condition)) if (branch !== source) entries.push(join(dir, branch));
    if (!documented.has(file)) {
      problems.push(
        `${pkg.name}: export "${subpath}" (${source}) is not an entry point of the API reference (${own.entryPoints ? `packages/${name}/` : ""}typedoc.json)`,
      );
    }
  }
}

// ---- comments, with the type checker over the sources ----
const program = ts.createProgram(entries, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  customConditions: ["@tessera/source"],
  types: ["node", "@webgpu/types"],
  typeRoots: [join(root, "node_modules/@types"), join(root, "packages/backend-webgpu/node_modules/@webgpu")],
  skipLibCheck: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const ours = (decl) => !decl.getSourceFile().fileName.includes("/node_modules/");
const hasComment = (symbol, decls = symbol.declarations ?? []) =>
  symbol.getDocumentationComment(checker).length > 0 || decls.some((d) => ts.getJSDocCommentsAndTags(d).some((c) => ts.isJSDoc(c)));
const isInternal = (decls) => decls.some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === "internal"));
const isPrivate = (d) =>
  (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || (d.name && ts.isPrivateIdentifier(d.name));

/** Members an exported class or interface declares itself (inherited ones are checked where declared). */
function checkMembers(symbol, where) {
  const decls = (symbol.declarations ?? []).filter((d) => ts.isClassDeclaration(d) || ts.isInterfaceDeclaration(d));
  for (const decl of decls) {
    for (const member of decl.members) {
      if (ts.isConstructorDeclaration(member) || ts.isIndexSignatureDeclaration(member) || ts.isClassStaticBlockDeclaration(member)) continue;
      if (isPrivate(member)) continue;
      const m = member.name && checker.getSymbolAtLocation(member.name);
      if (!m || isInternal([member]) || m.getName().startsWith("#")) continue;
      if (!hasComment(m, [member])) {
        const kind =
          ts.isMethodDeclaration(member) || ts.isMethodSignature(member)
            ? "method"
            : ts.isPropertyDeclaration(member) || ts.isPropertySignature(member)
              ? "property"
              : "accessor";
        const file = member.getSourceFile();
        const line = file.getLineAndCharacterOfPosition(member.getStart()).line + 1;
        problems.push(`${where}: ${kind} ${symbol.getName()}.${member.name.getText()} has no doc comment (${relative(root, file.fileName)}:${line})`);
      }
    }
  }
}

const seen = new Set();
for (const entry of entries) {
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const where = relative(root, entry);
  if (!moduleSymbol) {
    problems.push(`${where}: cannot be read`);
    continue;
  }
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decls = (symbol.declarations ?? []).filter(ours);
    // A comment on the declaration, or on the `export * as name` statement that re-exports a module.
    const documented =
      hasComment(symbol, decls) ||
      (exported.declarations ?? []).some((d) => d.parent && ts.isExportDeclaration(d.parent) && ts.getJSDocCommentsAndTags(d.parent).length > 0);
    if (!documented) problems.push(`${where}: export ${exported.getName()} has no doc comment`);
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) checkMembers(symbol, where);
    for (const d of decls) {
      if (!ts.isVariableDeclaration(d) || !d.initializer) continue;
      const init = d.initializer;
      const callable = checker.getTypeAtLocation(d).getCallSignatures().length > 0;
      if (callable && !ts.isArrowFunction(init) && !ts.isFunctionExpression(init)) {
        problems.push(`${where}: ${exported.getName()} is a function held in a const (the reference lists it as a variable); declare it with \`function\``);
      }
    }
  }
}

// ---- sources cite only documents that are in the repository ----
const SOURCE_DIRS = ["packages", "apps", "examples", "benchmarks"];
function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (["node_modules", "dist", ".reports", ".turbo", "runs"].includes(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(path) : /\.(ts|mjs|js)$/.test(e.name) ? [path] : [];
  });
}
for (const group of SOURCE_DIRS) {
  for (const file of sourceFiles(join(root, group))) {
    const pkg = join(root, group, relative(join(root, group), file).split("/")[0]);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/[A-Za-z0-9_./-]+\.md\b/g)) {
      const cited = m[0];
      if (![join(root, cited), join(pkg, cited), join(dirname(file), cited)].some((p) => existsSync(p))) {
        const line = text.slice(0, m.index).split("\n").length;
        problems.push(`${relative(root, file)}:${line}: cites ${cited}, which is not in the repository (the reasoning belongs in docs/)`);
      }
    }
  }
}

for (const p of problems) console.log(p);
console.log(`${problems.length} documentation problems (${entries.length} entry points)`);
process.exitCode = problems.length > 0 ? 1 : 0;
