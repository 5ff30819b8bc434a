/**
 * decodeSafetensors takes untrusted files: mutated real checkpoints (written by an independent
 * Python writer and by PyTorch's layout) must give a CheckpointError or tensors exactly as their
 * header describes, never another error, a hang, or output far beyond the file's size. Every
 * mutation comes from a fixed seed.
 */
import { readFileSync } from "node:fs";
import { RandomState } from "@tessera/tensor";
import { describe, expect, it } from "vitest";
import { CheckpointError, decodeSafetensors } from "../src/index.js";

const FIXTURES = ["reference.safetensors", "lenet5-small.safetensors", "unaligned.safetensors"];

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}

const encoder = new TextEncoder();

/** `file` with its JSON header replaced by `edit(header text)` (the length prefix kept true). */
function withHeader(file: Uint8Array, edit: (json: string) => string): Uint8Array {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const json = encoder.encode(edit(new TextDecoder().decode(file.subarray(8, 8 + n))));
  const out = new Uint8Array(8 + json.length + file.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(file.subarray(8 + n), 8 + json.length);
  return out;
}

function mutations(file: Uint8Array, rng: RandomState, count: number): Array<[string, Uint8Array]> {
  const int = (n: number) => Math.floor(rng.randomSample() * n);
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const out: Array<[string, Uint8Array]> = [];
  for (const at of [0, 4, 7, 8, 9, 8 + n - 1, 8 + n, 8 + n + 1, file.length - 1]) out.push([`truncated at ${at}`, file.slice(0, at)]);
  for (const len of [0n, 1n, BigInt(n + 1), 99_999_999n, 100_000_001n, 2n ** 53n, 2n ** 64n - 1n]) {
    const b = new Uint8Array(file);
    new DataView(b.buffer).setBigUint64(0, len, true);
    out.push([`header length ${len}`, b]);
  }
  // huge declared sizes and counts, with the length prefix kept consistent
  out.push(["a shape of 2^40 elements", withHeader(file, (j) => j.replace(/"shape":\[[^\]]*\]/, '"shape":[1048576,1048576]'))]);
  out.push(["a shape past 2^53", withHeader(file, (j) => j.replace(/"shape":\[[^\]]*\]/, '"shape":[9007199254740993]'))]);
  out.push(["a negative dimension", withHeader(file, (j) => j.replace(/"shape":\[[^\]]*\]/, '"shape":[-1,4]'))]);
  out.push(["offsets far past the end", withHeader(file, (j) => j.replace(/"data_offsets":\[(\d+),(\d+)\]/, '"data_offsets":[$1,99999999999]'))]);
  out.push(["offsets reversed", withHeader(file, (j) => j.replace(/"data_offsets":\[(\d+),(\d+)\]/, '"data_offsets":[$2,$1]'))]);
  out.push([
    "a thousand empty tensors",
    withHeader(file, (j) => `{${Array.from({ length: 1000 }, (_, i) => `"e${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",")},${j.slice(1)}`),
  ]);
  out.push(["an empty tensor of 2^52 declared rows", withHeader(file, (j) => j.replace(/"shape":\[[^\]]*\]/, '"shape":[4503599627370496,0]'))]);
  out.push(["an unknown dtype", withHeader(file, (j) => j.replace(/"dtype":"[A-Z0-9]+"/, '"dtype":"F128"'))]);
  out.push(["the header is an array", withHeader(file, () => "[1,2,3]")]);
  out.push(["trailing bytes", Uint8Array.from([...file, 0, 0, 0, 0])]);
  while (out.length < count) {
    if (int(3) === 0) out.push(["random truncation", file.slice(0, int(file.length))]);
    else {
      const b = new Uint8Array(file);
      const flips = 1 + int(6);
      for (let i = 0; i < flips; i++) b[int(3) === 0 ? int(8) : int(b.length)]! ^= 1 << int(8);
      out.push([`${flips} flipped bits`, b]);
    }
  }
  return out;
}

describe("decodeSafetensors fuzzed with mutated real checkpoints", () => {
  for (const name of FIXTURES) {
    it(`${name}: every mutation is refused with a CheckpointError or decodes to exactly what its header says`, () => {
      const file = fixture(name);
      let refused = 0;
      for (const [what, bytes] of mutations(file, new RandomState(23), 400)) {
        try {
          const { tensors } = decodeSafetensors(bytes, `${name} (${what})`);
          let out = 0;
          for (const t of tensors.values()) {
            expect(t.data.length, what).toBe(t.shape.reduce((a, b) => a * b, 1));
            out += t.data.byteLength;
          }
          // conversions widen at most 4x (I8/U8/BOOL -> int32), never beyond
          expect(out, what).toBeLessThanOrEqual(4 * bytes.length);
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw new Error(`${what}: expected a CheckpointError, got ${String(e)}`);
          expect(e.source).toBe(`${name} (${what})`);
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(100);
    });
  }

  it("a header declaring 20,000 tensors decodes, and one bad entry among them is refused", () => {
    const file = fixture("reference.safetensors");
    const many = withHeader(
      file,
      (j) => `{${Array.from({ length: 20_000 }, (_, i) => `"e${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",")},${j.slice(1)}`,
    );
    expect(decodeSafetensors(many).tensors.size).toBe(20_000 + decodeSafetensors(file).tensors.size);
    const overlapping = withHeader(many, (j) =>
      j.replace('"e7":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}', '"e7":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'),
    );
    expect(() => decodeSafetensors(overlapping, "many")).toThrow(/^checkpoint many: /);
  });
});
