// The worklets as the browser gets them: each *.worklet.js bundled on its own by esbuild (as
// js/build.mjs does), then evaluated in a bare scope like AudioWorkletGlobalScope (no imports, no
// DOM) where it must register its processor and run.
import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src");

async function bundle(file) {
  const result = await esbuild.build({
    entryPoints: [path.join(src, file)],
    bundle: true,
    format: "iife",
    write: false,
    target: "es2020",
    legalComments: "none",
  });
  return result.outputFiles[0].text;
}

function scope(rate) {
  const registered = {};
  const posted = [];
  class AudioWorkletProcessor {
    constructor() {
      this.port = { postMessage: (m) => posted.push(m), onmessage: null };
    }
  }
  const ctx = vm.createContext({
    AudioWorkletProcessor,
    registerProcessor: (name, cls) => (registered[name] = cls),
    sampleRate: rate,
    currentTime: 0,
    currentFrame: 0,
  });
  return { ctx, registered, posted };
}

test("capture worklet bundles to one import-free script that registers and runs", async () => {
  const code = await bundle("capture.worklet.js");
  assert.doesNotMatch(code, /^\s*import\s/m);
  const { ctx, registered, posted } = scope(44100);
  vm.runInContext(code, ctx);
  const Proc = registered["rtnb-capture"];
  assert.equal(typeof Proc, "function");
  const p = vm.runInContext("p => new p()", ctx)(Proc);
  for (let b = 0; b < 40; b++) p.process([[new Float32Array(128).fill(0.25)]], []);
  assert.equal(posted.length, Math.floor(Math.ceil((40 * 128 * 24000) / 44100) / 960));
  assert.equal(posted[0].frame.length, 960);
});

test("player worklet bundles to one import-free script that registers and runs", async () => {
  const code = await bundle("player.worklet.js");
  assert.doesNotMatch(code, /^\s*import\s/m);
  const { ctx, registered, posted } = scope(48000);
  vm.runInContext(code, ctx);
  const Proc = registered["rtnb-player"];
  const p = vm.runInContext("p => new p()", ctx)(Proc);
  p.port.onmessage({ data: { cmd: "push", item: "a", pcm: new Int16Array(2400).fill(1000) } });
  const out = new Float32Array(128);
  let heard = 0;
  for (let b = 0; b < 200; b++) {
    p.process([], [[out]]);
    heard += out.filter((v) => v !== 0).length;
  }
  assert.equal(heard, 4800);
  assert.ok(posted.some((m) => m.type === "played" && m.reason === "ended" && m.samples === 2400));
});
