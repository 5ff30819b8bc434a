import { TesseraError } from "@tessera/tensor";

let disabled = 0;

/** Whether ops are being recorded for differentiation right now. */
export function isGradEnabled(): boolean {
  return disabled === 0;
}

/**
 * Runs `fn` without recording ops (evaluation, optimizer updates). Results never require
 * gradients. `fn` must be synchronous: recording is switched off for everyone while it runs,
 * so holding it off across an `await` would leave concurrent, unrelated work unrecorded.
 */
export function noGrad<T>(fn: () => T): T {
  disabled++;
  let result: T;
  try {
    result = fn();
  } finally {
    disabled--;
  }
  if (result instanceof Promise || (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function")) {
    // Its error is ours now; do not let the abandoned promise surface as an unhandled rejection.
    Promise.resolve(result).catch(() => {});
    throw new TesseraError(
      "noGrad",
      "the function returned a Promise; noGrad covers synchronous work only (recording is global, so it cannot stay off across an await): await first, then wrap the synchronous part, e.g. `const x = await load(); const y = noGrad(() => model.forward(x));`",
    );
  }
  return result;
}
