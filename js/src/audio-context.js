// The page's one AudioContext, shared by every widget view, with both worklets loaded.
//
// The context runs at the device's native rate (44.1 or 48 kHz, whatever the browser picks):
// forcing 24 kHz breaks Firefox ("AudioNodes from AudioContexts with different sample-rate"),
// so the worklets resample instead. The worklet sources are bundled as text by js/build.mjs and
// added from Blob URLs, once per context.
// @ts-ignore -- build.mjs loads *.worklet.js as text (a default-exported string); tsc sees the JS
import captureSource from "./capture.worklet.js";
// @ts-ignore -- same: the player worklet's source text
import playerSource from "./player.worklet.js";

/** @type {{ctx: AudioContext, ready: Promise<void>} | null} */
let shared = null;

/**
 * @param {AudioContext} ctx
 * @param {string} source
 */
async function addModule(ctx, source) {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    await ctx.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Get the page's AudioContext, creating it on first use (or after it was closed).
 *
 * `ready` resolves once both processors ("rtnb-capture", "rtnb-player") are registered; construct
 * Mic and Player only after it. It rejects when this context cannot run worklets (no
 * `audioWorklet`: an insecure context or an old browser); it never rejects unhandled.
 * The context may start "suspended" (autoplay policy): resume it from a user gesture
 * (Player.unlock(), or Mic.start() which calls resume()).
 * @returns {Promise<{ctx: AudioContext, ready: Promise<void>}>}
 */
export async function getAudio() {
  if (shared && shared.ctx.state !== "closed") return shared;
  const Ctor = globalThis.AudioContext || /** @type {any} */ (globalThis).webkitAudioContext;
  if (!Ctor) throw new Error("This browser has no Web Audio (AudioContext).");
  /** @type {AudioContext} */
  const ctx = new Ctor({ latencyHint: "interactive" });
  const ready = (async () => {
    if (!ctx.audioWorklet) {
      throw new Error(
        "AudioWorklet is unavailable (it needs a secure context: open the notebook over https or http://localhost).",
      );
    }
    await addModule(ctx, captureSource);
    await addModule(ctx, playerSource);
  })();
  ready.catch(() => {}); // callers see the rejection when they await it
  shared = { ctx, ready };
  return shared;
}

/**
 * Convert an AudioContext time (seconds) to epoch milliseconds (Date.now() scale).
 *
 * Uses ctx.getOutputTimestamp(): it pairs a context time with the performance.now() at which that
 * sample leaves the speaker, so for playback times the result includes the output latency.
 * Falls back to "now" plus how far the time is ahead of currentTime plus ctx.outputLatency (the
 * same meaning: when the sample is heard) when the timestamp is not available (suspended
 * context, old browser).
 * @param {BaseAudioContext} ctx
 * @param {number} t AudioContext seconds
 * @returns {number} epoch milliseconds
 */
export function contextTimeToEpochMs(ctx, t) {
  const origin = performance.timeOrigin;
  const ac = /** @type {AudioContext} */ (ctx);
  if (typeof ac.getOutputTimestamp === "function") {
    const ts = ac.getOutputTimestamp();
    if (ts && ts.performanceTime && ts.contextTime !== undefined && ts.performanceTime > 0) {
      return origin + ts.performanceTime + (t - ts.contextTime) * 1000;
    }
  }
  const latency = ac.outputLatency || ac.baseLatency || 0;
  return origin + performance.now() + (t - ctx.currentTime + latency) * 1000;
}
