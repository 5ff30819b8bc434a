import { TesseraError } from "../errors.js";

// MT19937 parameters (Matsumoto & Nishimura), as in numpy's randomkit / mt19937.c.
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

/** A plain, JSON-serialisable copy of a `RandomState`, mirroring numpy's `get_state()` tuple. */
export interface RandomStateSnapshot {
  /** The 624 MT19937 state words, each an unsigned 32-bit integer. */
  key: number[];
  /** Index of the next word to temper; 624 means the block is regenerated on the next draw. */
  pos: number;
  /** Whether a second gaussian from the polar method is cached. */
  hasGauss: boolean;
  /** The cached gaussian (0 when `hasGauss` is false, as numpy resets it). */
  gauss: number;
}

/** Smallest all-ones bit mask covering `max` (numpy's `gen_mask`), for masked rejection sampling. */
function genMask(max: number): number {
  let mask = max >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

/** Number of elements of a size given as a count or a shape; validated so typed arrays can be allocated. */
function sizeToCount(op: string, size: number | readonly number[]): number {
  const dims = typeof size === "number" ? [size] : size;
  if (!Array.isArray(dims)) {
    throw new TesseraError(op, `size must be a number or an array of numbers, got ${String(size)}`);
  }
  let count = 1;
  for (const d of dims) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new TesseraError(op, `size must hold non-negative integers, got [${dims.join(",")}]`);
    }
    count *= d;
  }
  if (!Number.isSafeInteger(count)) {
    throw new TesseraError(op, `size is too large: [${dims.join(",")}]`);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// numpy's polar method calls the C library's `log`. V8's Math.log (an fdlibm port) differs from
// glibc's in the last bit for about 3% of inputs, which would break bit-compatibility of every
// gaussian. So this is a port of glibc's `log` (>= 2.28; the algorithm and table are ARM's
// optimized-routines, MIT licensed), in the variant glibc picks on x86-64 CPUs with FMA/AVX2,
// with the fused multiply-adds exactly where that build's machine code has them.
// ---------------------------------------------------------------------------------------------

const BITS = new DataView(new ArrayBuffer(8));

/** Exact rounding error of the last `twoSum`; a module variable so the hot path allocates nothing. */
let sumErr = 0;

/** Error-free sum (Knuth): returns `a + b` rounded and leaves the exact error in `sumErr`. */
function twoSum(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  sumErr = a - (s - bb) + (b - bb);
  return s;
}

/** `a + b` rounded to odd (the neighbour with an odd last bit when inexact), for `fma` below. */
function addRoundToOdd(a: number, b: number): number {
  const s = twoSum(a, b);
  if (sumErr === 0) return s;
  BITS.setFloat64(0, s);
  let lo = BITS.getUint32(4);
  if ((lo & 1) === 1) return s;
  let hi = BITS.getUint32(0);
  // The exact sum lies between s and its neighbour on the side of the error: step there.
  if (s > 0 === sumErr > 0) {
    lo += 1;
  } else if (lo === 0) {
    lo = 0xffffffff;
    hi -= 1;
  } else {
    lo -= 1;
  }
  BITS.setUint32(0, hi);
  BITS.setUint32(4, lo);
  return BITS.getFloat64(0);
}

const SPLITTER = 134217729; // 2^27 + 1, Veltkamp split into two 26-bit halves

/** Correctly rounded `a * b + c` (no overflow or underflow assumed); Boldo & Melquiond's emulation. */
function fma(a: number, b: number, c: number): number {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const pErr = ah * bh - p + ah * bl + al * bh + al * bl;
  const th = twoSum(c, p);
  return th + addRoundToOdd(sumErr, pErr);
}

const LN2_HI = 0.6931471805598903;
const LN2_LO = 5.497923018708371e-14;
const A0 = -0.5000000000000001;
const A1 = 0.33333333331825593;
const A2 = -0.2499999999622955;
const A3 = 0.20000304511814496;
const A4 = -0.16667054827627667;
const B0 = -0.5;
const B1 = 0.3333333333333352;
const B2 = -0.24999999999998432;
const B3 = 0.19999999999320328;
const B4 = -0.16666666669929706;
const B5 = 0.14285715076560868;
const B6 = -0.12499997863982555;
const B7 = 0.11110712032936046;
const B8 = -0.10000486757818193;
const B9 = 0.09181994006195467;
const B10 = -0.08328363062289341;

/** glibc's `log` table: (1/c, log c) for 128 subintervals of [0x1.6p-1, 0x1.6p0). */
const LOG_TAB = new Float64Array([
  1.4504249240398293, -0.3718565645633589, 1.442253508327276, -0.36620682668944937, 1.4341736174350004, -0.3605888069791945, 1.426183816329995,
  -0.3550022171419869, 1.4182825527052965, -0.34944666968829097, 1.4104682921759335, -0.3439217713603284, 1.4027396147468003, -0.3384271921261188,
  1.3950954438932313, -0.332962831494342, 1.3875338232485754, -0.32752794345742586, 1.3800539211058593, -0.32212257167088865, 1.3726542695419708,
  -0.3167462884799761, 1.3653332798446802, -0.3113985598928366, 1.358090204587874, -0.3060794515165526, 1.3509234892132138, -0.300788424667644,
  1.3438320840699889, -0.2955252968476998, 1.3368146974742003, -0.29028969275850613, 1.329870114677736, -0.2850812793277555, 1.322997339161106,
  -0.27989987391470095, 1.316195352741367, -0.27474526621870154, 1.3094628125672239, -0.2696169863701243, 1.3027990455471041, -0.26451506180308115,
  1.2962024229438942, -0.2594387762767383, 1.2896726275815547, -0.2543884090981692, 1.2832080305745537, -0.24936321635129843, 1.276807885983376,
  -0.24436312405975968, 1.2704714060687552, -0.23938801747897287, 1.2641976054949482, -0.23443761696705678, 1.257985357514882, -0.22951151871518505,
  1.2518337750655457, -0.2246094963439873, 1.2457421919097305, -0.21973149037705753, 1.2397094966625508, -0.2148770752847895, 1.2337348463589233,
  -0.210046029103637, 1.2278176973028803, -0.20523836373934046, 1.2219570190618474, -0.20045368751368642, 1.2161519732977757, -0.1956917537758045,
  1.2104018095009725, -0.19095237845203883, 1.204705805718973, -0.18623539250290833, 1.1990631185441964, -0.18154051731551135, 1.1934733004462308,
  -0.1768677957431919, 1.1879350812847385, -0.17221657406412305, 1.1824481322833125, -0.16758697765942543, 1.1770114976921955, -0.16297859687290384,
  1.1716248121809465, -0.15839151377804228, 1.1662869231674715, -0.15382513241456763, 1.1609977486762766, -0.14927976358922024, 1.1557563220795803,
  -0.14475495398119165, 1.1505619105480347, -0.14025044090817573, 1.1454138888505974, -0.1357660466685502, 1.140311877374656, -0.1313018016355727,
  1.1352550225747513, -0.12685731518763532, 1.1302429094831266, -0.1224325737671279, 1.1252747693068048, -0.11802724521862729, 1.1203501571039876,
  -0.11364127671663482, 1.1154683327680124, -0.10927434611278386, 1.1106291463292157, -0.10492665324943573, 1.1058315813301596, -0.10059761422644442,
  1.1010752177696026, -0.09628717309055901, 1.0963597137952512, -0.09199534069557558, 1.0916844827550398, -0.08772190036688698, 1.0870487291277784,
  -0.08346643613867855, 1.082452357388312, -0.07922916827544668, 1.0778948225025884, -0.0750099004750382, 1.0733751731601076, -0.07080805133352897,
  1.068893585073351, -0.06662408085151128, 1.0644491706655506, -0.06245745471915143, 1.0600414846328305, -0.0583080438042316, 1.0556701316181605,
  -0.05417576112313327, 1.051334750556926, -0.050060547896805474, 1.0470347288442157, -0.045962101199052086, 1.0427699229652954, -0.04188056008865715,
  1.0385395013738175, -0.03781540056183985, 1.034343418940345, -0.03376684757915882, 1.0301811073173315, -0.029734619131772888, 1.026052043621297,
  -0.025718470239212365, 1.0219561082336197, -0.021718543925430822, 1.0178926505784922, -0.01773446126981071, 1.0138614436244586, -0.013766252464051831,
  1.0098620186501341, -0.009813706322574944, 1.0058938559734134, -0.005876555150052809, 1.00195696235014, -0.0019550499938532084, 0.9961089923088509,
  0.0038985973556009412, 0.9884170338185201, 0.011650571286395461, 0.9808429191005297, 0.019342955478919066, 0.9733840169987446, 0.0269766014846482,
  0.9660377568876556, 0.034552359728422744, 0.9588014945307369, 0.04207121767183253, 0.9516728569073111, 0.049533940950141186, 0.9446494635965822,
  0.056941358295944156, 0.9377288993026223, 0.06429439168346107, 0.9309091073790681, 0.0715936354946507, 0.924187681612722, 0.07884010933776153,
  0.9175626765599192, 0.08603438905970506, 0.9110320403624034, 0.09317721180013905, 0.9045935839762024, 0.10026951462748457, 0.8982456375922825,
  0.10731170956330516, 0.8919860966782501, 0.11430473320717738, 0.8858131121185129, 0.12124928503033061, 0.879725075760676, 0.12814583422959913,
  0.8737201372634685, 0.1349951636851756, 0.8677966405782273, 0.1417978768189414, 0.8619528050060739, 0.14855476039031146, 0.8561872354420692,
  0.1552661937658968, 0.8504983927816893, 0.16193275688146969, 0.8448844572790304, 0.16855539792220497, 0.8393442741575965, 0.1751343179947753,
  0.8338762249349438, 0.1816702989864325, 0.8284789320557778, 0.18816387146023317, 0.8231510800065832, 0.1946155228479256, 0.8178913903778707,
  0.20102572579389744, 0.8126984007245374, 0.2073952090795501, 0.8075710029460227, 0.21372429840596396, 0.8025078881160415, 0.2200135945981856,
  0.7975077379364331, 0.22626374162859975, 0.792569604966373, 0.23247494747693054, 0.7876923641254114, 0.23864766620658884, 0.7828746724940998,
  0.24478265647405806, 0.7781155388790811, 0.25088025827324145, 0.7734139557869777, 0.2569408552510595, 0.7687687179914933, 0.26296511155101143,
  0.7641790698041854, 0.2689531327189343, 0.7596438763692399, 0.27490553924610595, 0.7551621951078668, 0.2808227248478943, 0.7507331780216866,
  0.286704979267256, 0.7463557196361751, 0.29255295645509705, 0.7420289364869653, 0.2983670386142876, 0.7377521537065876, 0.30414734587282055,
  0.7335242966002608, 0.30989455774829366, 0.729344777457841, 0.31560871301871884,
]);

/** glibc's natural log for positive normal finite `x` (all the polar method feeds it). */
function glibcLog(x: number): number {
  if (!(x >= 2.2250738585072014e-308 && x < Infinity)) return Math.log(x);
  if (x >= 0.9375 && x < 1.064697265625) {
    // Close to 1: a longer polynomial in r = x - 1 with a split head for accuracy.
    if (x === 1) return 0;
    const r = x - 1;
    const r2 = r * r;
    const r3 = r * r2;
    const c1 = fma(r2, B3, fma(r, B2, B1));
    const c2 = fma(r2, B6, fma(r, B5, B4));
    const c3 = fma(r3, B10, fma(r2, B9, fma(r, B8, B7)));
    const poly = fma(fma(c3, r3, c2), r3, c1);
    const rhi = fma(r, 134217728, r) - 134217728 * r;
    const rlo = r - rhi;
    const rhi2 = rhi * rhi;
    const hi = fma(rhi2, B0, r);
    const lo = fma(B0 * rlo, r + rhi, fma(rhi2, B0, r - hi));
    return hi + fma(poly, r3, lo);
  }
  // x = 2^k z with z in [0x1.6p-1, 0x1.6p0); log x = k ln2 + log c + log1p(z/c - 1).
  BITS.setFloat64(0, x);
  const hiWord = BITS.getUint32(0);
  const tmp = (hiWord - 0x3fe60000) | 0;
  const i = (tmp >>> 13) & 0x7f;
  const k = tmp >> 20;
  BITS.setUint32(0, (hiWord - (tmp & 0xfff00000)) >>> 0);
  const z = BITS.getFloat64(0);
  const invc = LOG_TAB[2 * i];
  const logc = LOG_TAB[2 * i + 1];
  const w = fma(k, LN2_HI, logc);
  const r = fma(z, invc, -1);
  const hi = r + w;
  const r2 = r * r;
  const lo = fma(k, LN2_LO, w - hi + r);
  const q = fma(fma(r, A4, A3), r2, fma(r, A2, A1));
  return fma(r * r2, q, fma(r2, A0, lo)) + hi;
}

/** A Mersenne Twister generator bit-compatible with numpy's legacy `numpy.random.RandomState`. */
export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;
  private hasGauss = false;
  private gauss = 0;

  /** Seeds like `np.random.RandomState(seed)` with an integer seed (MT19937 `init_genrand`). */
  constructor(seed: number) {
    if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > UINT32_MAX) {
      throw new TesseraError("RandomState", `seed must be an integer in [0, 4294967295], got ${String(seed)}`);
    }
    const key = this.key;
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      key[i] = s;
      // 32-bit wrap-around multiply is what the C code relies on; Math.imul gives it exactly.
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gauss = 0;
  }

  /** Regenerates the whole 624-word block, as `mt19937_gen` does. */
  private generate(): void {
    const key = this.key;
    let i = 0;
    let y: number;
    for (; i < N - M; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; i < N - 1; i++) {
      y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = key[i + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (key[N - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[N - 1] = key[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /** Next tempered 32-bit output, as an unsigned integer in [0, 2^32-1]. */
  randomUint32(): number {
    if (this.pos >= N) this.generate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits, built from two draws exactly like numpy's `random_sample`. */
  randomSample(): number {
    const a = this.randomUint32() >>> 5;
    const b = this.randomUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform doubles in [0, 1) (`np.random.RandomState.rand`); `size` is a count or a shape. */
  rand(size: number | number[]): Float64Array {
    const out = new Float64Array(sizeToCount("RandomState.rand", size));
    for (let i = 0; i < out.length; i++) out[i] = this.randomSample();
    return out;
  }

  /** Uniform doubles in [low, high), computed as `low + (high - low) * u` like numpy. */
  uniform(low: number, high: number, size: number | number[]): Float64Array {
    const range = high - low;
    if (!Number.isFinite(range)) {
      throw new TesseraError("RandomState.uniform", `high - low must be finite, got low=${low}, high=${high}`);
    }
    const out = new Float64Array(sizeToCount("RandomState.uniform", size));
    for (let i = 0; i < out.length; i++) out[i] = low + range * this.randomSample();
    return out;
  }

  /** Integers in [low, high) with numpy's legacy masked rejection sampling; bounds must fit int32. */
  randint(low: number, high: number, size: number | number[]): Int32Array {
    if (!Number.isInteger(low) || !Number.isInteger(high)) {
      throw new TesseraError("RandomState.randint", `low and high must be integers, got low=${low}, high=${high}`);
    }
    if (high <= low) {
      throw new TesseraError("RandomState.randint", `high must be greater than low, got low=${low}, high=${high}`);
    }
    if (low < -0x80000000 || high > 0x80000000) {
      throw new TesseraError("RandomState.randint", `low and high - 1 must fit in int32, got low=${low}, high=${high}`);
    }
    const out = new Int32Array(sizeToCount("RandomState.randint", size));
    const rng = high - low - 1; // <= 2^32 - 1 given the int32 bounds above
    if (rng === 0) {
      // numpy fills with `low` without consuming any draws.
      out.fill(low);
      return out;
    }
    const mask = genMask(rng);
    for (let i = 0; i < out.length; i++) {
      let v: number;
      do {
        v = (this.randomUint32() & mask) >>> 0;
      } while (v > rng);
      out[i] = low + v;
    }
    return out;
  }

  /** numpy's `random_interval`: an integer in [0, max] by masked rejection; no draw when max is 0. */
  private randomInterval(max: number): number {
    if (max === 0) return 0;
    const mask = genMask(max);
    let v: number;
    do {
      v = (this.randomUint32() & mask) >>> 0;
    } while (v > max);
    return v;
  }

  /** Shuffles `array` in place with numpy's legacy Fisher-Yates order (from the end down). */
  shuffle(array: { length: number; [i: number]: number }): void {
    const n = array.length;
    if (n - 1 > UINT32_MAX) {
      // numpy switches to 64-bit draws past 2^32 elements; not supported here.
      throw new TesseraError("RandomState.shuffle", `array is too long to shuffle: ${n}`);
    }
    for (let i = n - 1; i >= 1; i--) {
      const j = this.randomInterval(i);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
  }

  /** A random permutation of `0..n-1` (numpy: `arange(n)` then `shuffle`). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new TesseraError("RandomState.permutation", `n must be an integer in [0, 2147483647], got ${n}`);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    this.shuffle(out);
    return out;
  }

  /** One standard gaussian by numpy's legacy polar method, using and refilling the cached second value. */
  private gaussian(): number {
    if (this.hasGauss) {
      const g = this.gauss;
      this.hasGauss = false;
      this.gauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * glibcLog(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** Standard normal samples (`np.random.RandomState.standard_normal`). */
  standardNormal(size: number | number[]): Float64Array {
    const out = new Float64Array(sizeToCount("RandomState.standardNormal", size));
    for (let i = 0; i < out.length; i++) out[i] = this.gaussian();
    return out;
  }

  /** Normal samples `loc + scale * z`, the same expression numpy's legacy `normal` uses. */
  normal(loc: number, scale: number, size: number | number[]): Float64Array {
    if (!(scale >= 0)) {
      throw new TesseraError("RandomState.normal", `scale must be non-negative, got ${scale}`);
    }
    const out = new Float64Array(sizeToCount("RandomState.normal", size));
    for (let i = 0; i < out.length; i++) out[i] = loc + scale * this.gaussian();
    return out;
  }

  /** A JSON-serialisable copy of the full generator state, including the gaussian cache. */
  getState(): RandomStateSnapshot {
    return { key: Array.from(this.key), pos: this.pos, hasGauss: this.hasGauss, gauss: this.gauss };
  }

  /** Restores a state from `getState()`; validates it first so a bad object leaves this generator untouched. */
  setState(state: RandomStateSnapshot): void {
    const op = "RandomState.setState";
    if (typeof state !== "object" || state === null) {
      throw new TesseraError(op, `state must be an object, got ${state === null ? "null" : typeof state}`);
    }
    const { key, pos, hasGauss, gauss } = state as Partial<RandomStateSnapshot>;
    if (!Array.isArray(key) || key.length !== N) {
      throw new TesseraError(op, `key must be an array of ${N} integers, got ${Array.isArray(key) ? `length ${key.length}` : typeof key}`);
    }
    for (let i = 0; i < N; i++) {
      const w: unknown = key[i];
      if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > UINT32_MAX) {
        throw new TesseraError(op, `key[${i}] must be an integer in [0, 4294967295], got ${String(w)}`);
      }
    }
    if (typeof pos !== "number" || !Number.isInteger(pos) || pos < 0 || pos > N) {
      throw new TesseraError(op, `pos must be an integer in [0, ${N}], got ${String(pos)}`);
    }
    if (typeof hasGauss !== "boolean") {
      throw new TesseraError(op, `hasGauss must be a boolean, got ${typeof hasGauss}`);
    }
    if (typeof gauss !== "number" || !Number.isFinite(gauss)) {
      throw new TesseraError(op, `gauss must be a finite number, got ${String(gauss)}`);
    }
    this.key.set(key);
    this.pos = pos;
    this.hasGauss = hasGauss;
    this.gauss = gauss;
  }

  /** An independent generator in the same state, so both produce the same stream from here. */
  clone(): RandomState {
    const copy = new RandomState(0);
    copy.key.set(this.key);
    copy.pos = this.pos;
    copy.hasGauss = this.hasGauss;
    copy.gauss = this.gauss;
    return copy;
  }
}
