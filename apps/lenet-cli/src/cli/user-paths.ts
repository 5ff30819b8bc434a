/**
 * The directory the user typed the command in. `pnpm --filter lenet-cli start` runs the CLI in
 * the package's own folder and says where the user was in `INIT_CWD`; a relative `--out`,
 * `--data`, checkpoint or image then means what it meant at the user's prompt. Anything else
 * (the `lenet-cli` bin, `node dist/main.js`, a child of another package's script, whose
 * `INIT_CWD` is about someone else) runs where it was started.
 */
export function userCwd(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const viaStart = env.npm_lifecycle_event === "start" && env.npm_package_name === "lenet-cli";
  return viaStart && env.INIT_CWD ? env.INIT_CWD : cwd;
}

/**
 * A path as the user gave it, followed by where it led when that differs (a relative path):
 * `runs/x (/home/me/tessera/runs/x)`, so an error shows which file was looked for.
 */
export function shownPath(given: string, resolved: string): string {
  return given === resolved ? given : `${given} (${resolved})`;
}
