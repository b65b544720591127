// ONNX Runtime (CPU) timing for tools/bench/cpu.sh: a peer to compare mnemo with.
//   node ort.mjs MODEL.onnx INPUT.npy RUNS [THREADS] [OUTPUT.npy]
// Warms up, times RUNS calls of session.run, prints one JSON line
// {"median_ms":..,"min_ms":..,"runs":..,"version":..}; writes the output tensor as .npy
// when asked. Benchmark-only: mnemo never depends on it.
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${path}: not .npy`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString("latin1", major === 1 ? 10 : 12, start);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${path}: want little-endian float32 in C order`);
  const dims = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(",").map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { dims, data };
}

function writeNpy(path, dims, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(", ")}${
    dims.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + " ".repeat(pad % 64) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, "latin1"), body]));
}

const [model, inputPath, runsText, threadsText, outputPath] = process.argv.slice(2);
if (!model || !inputPath || !runsText) {
  console.error("usage: node ort.mjs MODEL.onnx INPUT.npy RUNS [THREADS] [OUTPUT.npy]");
  process.exit(2);
}
const runs = Number(runsText);
const threads = Number(threadsText || 2);
const session = await ort.InferenceSession.create(model, {
  executionProviders: ["cpu"],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
});
const x = readNpy(inputPath);
const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.data, x.dims) };
let result;
for (let i = 0; i < 3; i++) result = await session.run(feeds); // warm-up
const times = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  result = await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
if (outputPath) {
  const y = result[session.outputNames[0]];
  writeNpy(outputPath, y.dims, y.data);
}
const version = ort.env && ort.env.versions ? ort.env.versions.common || "" : "";
console.log(JSON.stringify({ median_ms: times[Math.floor(runs / 2)], min_ms: times[0], runs,
  version }));
