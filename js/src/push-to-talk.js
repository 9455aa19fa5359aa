// Push-to-talk for one view. A press starts a turn; a release ends it, but the end of the
// sentence is still in the capture pipeline then, so the `release` message waits until a frame
// captured at or after the release instant has gone out (or PTT_TAIL_MS at most). The kernel
// turns press/release into input_audio_buffer.clear / commit + response.create.

import { PTT } from "./bridge.js";

/** After a push-to-talk release, wait this long at most for the frame holding the release. */
export const PTT_TAIL_MS = 150;

export class PushToTalk {
  /**
   * @param {{send: (msg: object) => void, guard: import("./guard.js").Guard, tailMs?: number}} opts
   */
  constructor({ send, guard, tailMs = PTT_TAIL_MS }) {
    this.sendMessage = send;
    this.guard = guard;
    this.tailMs = tailMs;
    this.held = false;
    /** @type {number|null} epoch ms of the last release still to be sent */
    this.releaseAt = null;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.releaseTimer = null;
  }

  /** A release is waiting for its last frame. */
  get releasing() {
    return this.releaseAt !== null;
  }

  press() {
    if (this.releasing) this.finish(); // the previous turn ends first
    this.held = true;
    this.sendMessage({ type: PTT, action: "press" });
  }

  /**
   * @param {boolean} micOn whether frames are flowing (if not, the turn ends now)
   * @param {number} now epoch ms of the release, on the capture timestamps' clock
   */
  release(micOn, now) {
    if (!this.held) return;
    this.held = false;
    if (!micOn) {
      this.finish();
      return;
    }
    this.releaseAt = now;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(this.guard(() => this.finish()), this.tailMs);
  }

  /** End the turn now: send `release`. */
  finish() {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.releaseAt = null;
    this.held = false;
    this.sendMessage({ type: PTT, action: "release" });
  }

  /**
   * Whether a captured frame goes to the kernel: always in hands-free mode, while the button is
   * held, and after a release the frames captured before it (the end of the sentence).
   * @param {boolean} handsFree
   * @param {number} tCapture epoch ms of the frame's last sample
   * @param {number} frameMs the frame's length
   */
  wantsFrame(handsFree, tCapture, frameMs) {
    if (handsFree || this.held) return true;
    return this.releaseAt !== null && tCapture - frameMs < this.releaseAt;
  }

  /**
   * After each frame: a release is complete once a frame captured at or after it went by.
   * @param {number} tCapture
   */
  frameDone(tCapture) {
    if (this.releaseAt !== null && tCapture >= this.releaseAt) this.finish();
  }
}
