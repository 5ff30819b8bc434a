let disabled = 0;

/** Whether ops are being recorded for differentiation right now. */
export function isGradEnabled(): boolean {
  return disabled === 0;
}

/**
 * Runs `fn` without recording ops (evaluation, optimizer updates). Results never require
 * gradients. Works with async functions: recording resumes when the promise settles.
 */
export function noGrad<T>(fn: () => T): T {
  disabled++;
  let result: T;
  try {
    result = fn();
  } catch (err) {
    disabled--;
    throw err;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      disabled--;
    }) as T;
  }
  disabled--;
  return result;
}
