#!/usr/bin/env node
// Sums the vitest JSON reports (.reports/vitest.json) of workspace packages and prints one plain
// line, `N passed, N failed, N skipped`, so CI records the test count. Run alone, it sums every
// package with a test script; `scripts/test.mjs` (`pnpm test`) sums the packages it ran.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root. */
export const root = fileURLToPath(new URL("..", import.meta.url));

/** Every workspace package directory (absolute) whose package.json has a test script. */
export function packagesWithTests() {
  const dirs = [];
  for (const group of ["packages", "apps", "examples", "tests", "benchmarks"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const pkg = join(dir, name);
      if (!existsSync(join(pkg, "package.json"))) continue;
      const scripts = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).scripts ?? {};
      if (scripts.test) dirs.push(pkg);
    }
  }
  return dirs;
}

/** The report file a package's test script writes. */
export function reportPath(dir) {
  return join(dir, ".reports", "vitest.json");
}

/**
 * Sums the reports of `dirs`. A package without a report (its tests did not run, or crashed
 * before reporting) counts as one failure, and is named.
 */
export function countTests(dirs) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing = [];
  for (const dir of dirs) {
    const report = reportPath(dir);
    if (!existsSync(report)) {
      missing.push(relative(root, dir));
      continue;
    }
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    // a failed test counts once; a test file that failed with no failed test (it did not load,
    // or a hook threw) counts as one more
    const brokenFiles = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"));
    failed += (r.numFailedTests ?? 0) + brokenFiles.length;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
  failed += missing.length;
  return { passed, failed, skipped, missing };
}

/** Prints the count (after the packages that left no report) and returns whether all passed. */
export function printCount({ passed, failed, skipped, missing }) {
  if (missing.length > 0) console.log(`no test report from: ${missing.join(", ")} (counted as one failure each)`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = printCount(countTests(packagesWithTests())) ? 0 : 1;
}
