/**
 * Lets the worker's event loop run (messages from the page: stop, predict, save) without the
 * 4 ms clamp of nested timers: a message to itself is delivered as soon as it is posted.
 */
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();

/** Resolves after the event loop has run once. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}
