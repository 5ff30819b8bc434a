import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError, decodeIdx, decodeIdxAsync, defaultMnistDir, encodeIdx, fetchIdx, loadMnist, loadMnistFromUrls, mnistFromBytes } from "../src/index.js";

const MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** A server on 127.0.0.1 for the given paths (anything else is a 404), and its base URL. */
async function serve(files: Map<string, Uint8Array>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    if (!body) {
      res.writeHead(404, "Not Found").end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("decodeIdxAsync", () => {
  const plain = encodeIdx({ data: Float32Array.from([1.5, -2, 3e9, 0]), shape: [2, 2] });

  it("decodes plain and gzip bytes to what the Node decoder gives", async () => {
    for (const bytes of [plain, new Uint8Array(gzipSync(plain))]) {
      const a = await decodeIdxAsync(bytes, "m.idx");
      const b = decodeIdx(bytes, "m.idx");
      expect(a.dtype).toBe("float32");
      expect(a.shape).toEqual([2, 2]);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    }
  });

  it("refuses corrupt and truncated gzip, naming the file", async () => {
    const gz = new Uint8Array(gzipSync(plain));
    const corrupt = gz.slice();
    corrupt[12] ^= 0xff;
    corrupt[13] ^= 0xff;
    await expect(decodeIdxAsync(corrupt, "bad.gz")).rejects.toThrow(DatasetError);
    await expect(decodeIdxAsync(corrupt, "bad.gz")).rejects.toThrow(/^bad\.gz: /);
    await expect(decodeIdxAsync(gz.subarray(0, gz.length - 6), "cut.gz")).rejects.toThrow(/^cut\.gz: (corrupt or truncated gzip data|truncated)/);
  });

  it("checks the expected type and the header like the file reader", async () => {
    await expect(decodeIdxAsync(plain, "m.idx", { dtype: "uint8", ndim: 3 })).rejects.toThrow(/^m\.idx: wrong magic number 0x00000d02/);
    await expect(decodeIdxAsync(plain.subarray(0, plain.length - 1), "m.idx")).rejects.toThrow(/^m\.idx: truncated/);
  });
});

describe("fetchIdx and loadMnistFromUrls", () => {
  let server: Server;
  let base: string;
  const raw = new Map<string, Uint8Array>();

  beforeAll(async () => {
    const dir = defaultMnistDir();
    const files = new Map<string, Uint8Array>();
    for (const name of MNIST_FILES) {
      const bytes = new Uint8Array(await readFile(join(dir, name)));
      raw.set(name, bytes);
      files.set(`/${name}.gz`, new Uint8Array(gzipSync(bytes, { level: 1 })));
    }
    files.set("/labels-plain", raw.get("t10k-labels-idx1-ubyte")!);
    ({ server, base } = await serve(files));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("fetches plain and gzip IDX files", async () => {
    const plain = await fetchIdx(`${base}/labels-plain`, { expect: { dtype: "uint8", ndim: 1 } });
    const gz = await fetchIdx(`${base}/t10k-labels-idx1-ubyte.gz`);
    expect(plain.shape).toEqual([10_000]);
    expect(Array.from(gz.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Buffer.compare(Buffer.from(plain.data as Uint8Array), Buffer.from(gz.data as Uint8Array))).toBe(0);
  });

  it("names the URL of a file the server does not have, or that cannot be reached", async () => {
    await expect(fetchIdx(`${base}/missing.gz`)).rejects.toThrow(new RegExp(`^${base}/missing\\.gz: HTTP 404 Not Found$`));
    const closed = await serve(new Map());
    await new Promise((resolve) => closed.server.close(resolve));
    await expect(fetchIdx(`${closed.base}/x`)).rejects.toThrow(/: cannot fetch: /);
  });

  it("loads MNIST from gzip URLs exactly as loadMnist reads the files", async () => {
    const [fromUrls, fromFiles] = await Promise.all([
      loadMnistFromUrls({
        trainImages: `${base}/train-images-idx3-ubyte.gz`,
        trainLabels: `${base}/train-labels-idx1-ubyte.gz`,
        testImages: `${base}/t10k-images-idx3-ubyte.gz`,
        testLabels: `${base}/t10k-labels-idx1-ubyte.gz`,
      }),
      loadMnist(),
    ]);
    for (const split of ["train", "valid", "test"] as const) {
      expect(fromUrls[split].count).toBe(fromFiles[split].count);
      expect(Buffer.compare(Buffer.from(fromUrls[split].images), Buffer.from(fromFiles[split].images))).toBe(0);
      expect(Array.from(fromUrls[split].labels)).toEqual(Array.from(fromFiles[split].labels));
    }
  });

  it("refuses a labels file that does not match its images, naming it, and a wrong kind of file", async () => {
    const url = (name: string) => `${base}/${name}.gz`;
    await expect(
      loadMnistFromUrls({
        trainImages: url("train-images-idx3-ubyte"),
        trainLabels: url("t10k-labels-idx1-ubyte"),
        testImages: url("t10k-images-idx3-ubyte"),
        testLabels: url("t10k-labels-idx1-ubyte"),
      }),
    ).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: holds 10000 labels but .*train-images-idx3-ubyte\.gz holds 60000 images/);
    await expect(
      mnistFromBytes(
        {
          trainImages: raw.get("train-labels-idx1-ubyte")!,
          trainLabels: raw.get("train-labels-idx1-ubyte")!,
          testImages: raw.get("t10k-images-idx3-ubyte")!,
          testLabels: raw.get("t10k-labels-idx1-ubyte")!,
        },
        {},
        { trainImages: "picked.idx" },
      ),
    ).rejects.toThrow(/^picked\.idx: wrong magic number 0x00000801/);
  });

  it("splits bytes with the validation option", async () => {
    const m = await mnistFromBytes(
      {
        trainImages: raw.get("t10k-images-idx3-ubyte")!,
        trainLabels: raw.get("t10k-labels-idx1-ubyte")!,
        testImages: raw.get("t10k-images-idx3-ubyte")!,
        testLabels: raw.get("t10k-labels-idx1-ubyte")!,
      },
      { validation: 1000, pixels: "float32" },
    );
    expect([m.train.count, m.valid.count, m.test.count]).toEqual([9000, 1000, 10_000]);
    expect(m.valid.labels[0]).toBe(raw.get("t10k-labels-idx1-ubyte")![8 + 9000]);
    expect(m.test.pixels![200]).toBeCloseTo(raw.get("t10k-images-idx3-ubyte")![16 + 200]! / 255, 6);
    await expect(
      mnistFromBytes(
        {
          trainImages: raw.get("t10k-images-idx3-ubyte")!,
          trainLabels: raw.get("t10k-labels-idx1-ubyte")!,
          testImages: raw.get("t10k-images-idx3-ubyte")!,
          testLabels: raw.get("t10k-labels-idx1-ubyte")!,
        },
        { validation: 20_000 },
      ),
    ).rejects.toThrow(/validation: 20000 images requested but the training file holds only 10000/);
  });
});
