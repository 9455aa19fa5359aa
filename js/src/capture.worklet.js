// AudioWorkletProcessor "rtnb-capture": microphone (context rate) -> 24 kHz PCM16 frames.
//
// Resamples its input (44.1 kHz, 48 kHz, ...) to 24 kHz with the anti-aliased StreamingResampler,
// cuts 40 ms frames (960 samples) and posts each as
//   {frame: Int16Array (buffer transferred), level: RMS of the frame, endTime}
// where endTime is the AudioContext time (seconds) of the frame's last sample, the resampler's
// delay taken into account. Channels are averaged to mono. When the input has no channels (no
// source connected) silence is fed, so frames and times stay continuous with the context clock.
// Port messages in: {cmd: "reset"} (drop the partial frame and history), {cmd: "stop"} (end).
// Bundled on its own with audio-math.js by js/build.mjs and loaded from a Blob URL.
import { StreamingResampler, FrameAssembler, floatToPcm16, rms } from "./audio-math.js";

const WIRE_RATE = 24000;
const FRAME_SAMPLES = 960; // 40 ms

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new StreamingResampler(Math.round(sampleRate), WIRE_RATE);
    this.frames = new FrameAssembler(FRAME_SAMPLES);
    this.mono = new Float32Array(128);
    this.firstFrame = -1; // context frame of the first input sample fed to the resampler
    this.outCount = 0; // 24 kHz samples put into frames so far
    this.alive = true;
    /** @param {MessageEvent} e */
    this.port.onmessage = (e) => {
      const cmd = e.data && e.data.cmd;
      if (cmd === "stop") this.alive = false;
      else if (cmd === "reset") {
        this.resampler.reset();
        this.frames.reset();
        this.firstFrame = -1;
        this.outCount = 0;
      }
    };
  }

  /**
   * @param {Float32Array[][]} inputs
   * @returns {boolean}
   */
  process(inputs) {
    if (!this.alive) return false;
    const channels = inputs[0] || [];
    const n = channels.length ? channels[0].length : 128;
    if (this.mono.length !== n) this.mono = new Float32Array(n);
    const mono = this.mono;
    if (channels.length === 1) mono.set(channels[0]);
    else {
      mono.fill(0);
      for (const ch of channels) for (let i = 0; i < n; i++) mono[i] += ch[i] / channels.length;
    }
    if (this.firstFrame < 0) this.firstFrame = currentFrame;
    const frames = this.frames.push(this.resampler.process(mono));
    for (const f of frames) {
      this.outCount += FRAME_SAMPLES;
      // 24 kHz sample m sits at input position m * sampleRate / 24000, minus the filter delay
      const lastInput = this.firstFrame + ((this.outCount - 1) * sampleRate) / WIRE_RATE - this.resampler.delay;
      const pcm = floatToPcm16(f);
      this.port.postMessage({ frame: pcm, level: rms(f), endTime: lastInput / sampleRate }, [pcm.buffer]);
    }
    return true;
  }
}

registerProcessor("rtnb-capture", CaptureProcessor);
