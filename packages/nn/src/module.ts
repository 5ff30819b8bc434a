import { type Tensor, TesseraError, keep } from "@tessera/tensor";
import { Tensor as TensorClass } from "@tessera/tensor";

/** Tensors made by `parameter()`: they stay parameters (in the state dict) even when frozen. */
const parameters = new WeakSet<Tensor>();

/** Makes `t` a trainable parameter: kept out of `tidy` scopes, with gradients required. */
export function parameter(t: Tensor): Tensor {
  keep(t);
  t.requiresGrad = true;
  parameters.add(t);
  return t;
}

/**
 * A caller-given initial value for a layer's parameter `name`: checked for `shape` and float32
 * (the layer would otherwise fail later, far from the mistake) and returned as is.
 */
export function checkedInit(op: string, name: string, t: Tensor, shape: readonly number[]): Tensor {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new TesseraError(op, `initial ${name} has shape [${t.shape.join(",")}] but the layer needs [${shape.join(",")}]`);
  }
  if (t.dtype !== "float32") throw new TesseraError(op, `initial ${name} has dtype ${t.dtype} but the layer needs float32`);
  return t;
}

/** Thrown by `loadStateDict` when names or shapes do not match. */
export class StateDictError extends TesseraError {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: Array<{ name: string; expected: readonly number[]; got: readonly number[] }>,
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(", ")}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(", ")}`);
    if (mismatched.length)
      parts.push(`shape mismatches: ${mismatched.map((m) => `${m.name} expects [${m.expected.join(",")}] but got [${m.got.join(",")}]`).join("; ")}`);
    super("loadStateDict", parts.join("; "));
  }
}

/** What a module is, as checkpoints record it: a class name and the JSON options that rebuild its shapes. */
export interface ModuleArchitecture {
  /** The class name (for example `LeNet5`). */
  type: string;
  /** The options that rebuild the module's shapes, as JSON. */
  config: Record<string, unknown>;
}

/**
 * Base class of layers and models, shaped like PyTorch's `nn.Module`. Parameters, buffers and
 * submodules are found among the instance's own fields (in declaration order); a field holding
 * an array of modules registers each under its index.
 */
export abstract class Module {
  /** Training mode (dropout active) or evaluation mode. */
  training = true;
  private readonly bufferNames = new Set<string>();

  /** The computation; call the module itself with `forward` (JavaScript has no `__call__`). */
  abstract forward(x: Tensor): Tensor;

  /** Declares a field as a buffer: saved in the state dict, but not trained. */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.bufferNames.add(name);
    (this as unknown as Record<string, unknown>)[name] = t;
    return t;
  }

  /** Direct submodules with their field names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
      else if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) if (v instanceof Module) yield [`${key}.${i}`, v];
      }
    }
  }

  /** Every parameter, with dotted names like `conv1.weight`. */
  *namedParameters(prefix = ""): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof TensorClass && parameters.has(value) && !this.bufferNames.has(key)) yield [prefix + key, value];
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedParameters(`${prefix}${name}.`);
  }

  /** Every parameter. */
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Every buffer, with dotted names. */
  *namedBuffers(prefix = ""): Generator<[string, Tensor]> {
    for (const name of this.bufferNames) {
      const t = (this as unknown as Record<string, unknown>)[name];
      if (t instanceof TensorClass) yield [prefix + name, t];
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedBuffers(`${prefix}${name}.`);
  }

  /** Parameters and buffers by name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the parameters and buffers by name. With `strict` (default), every name
   * must match; shapes must always match. Nothing is changed unless everything fits.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const given = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const mismatched = [...own.entries()]
      .filter(([k, t]) => given.has(k) && (given.get(k)!.shape.length !== t.shape.length || given.get(k)!.shape.some((d, i) => d !== t.shape[i])))
      .map(([name, t]) => ({ name, expected: t.shape, got: given.get(name)!.shape }));
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(strict ? missing : [], strict ? unexpected : [], mismatched);
    }
    for (const [k, t] of own) {
      const v = given.get(k);
      if (!v) continue;
      const cast = v.dtype === t.dtype ? v : v.cast(t.dtype);
      t.assign(cast);
      if (cast !== v) cast.dispose();
    }
  }

  /**
   * What this module is (class name and options), recorded by `saveCheckpoint` in the file's
   * metadata; null (the default) when the module cannot describe itself.
   */
  architecture(): ModuleArchitecture | null {
    return null;
  }

  /** Switches this module and its children to training mode. */
  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this.namedChildren()) c.train(mode);
    return this;
  }

  /** Switches to evaluation mode (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** Clears `.grad` of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }
}
