// Interop check: the official node `openai` package talks to the stand-in, unchanged.
//
// It always dials wss:// (it rewrites the base URL's scheme), so the stand-in runs with
// LocalServer(tls=True) and node trusts its throwaway CA through NODE_EXTRA_CA_CERTS.
// Usage: node openai-node-realtime.mjs https://127.0.0.1:PORT/v1
// Prints one JSON line: what each turn produced. Exits non-zero on any error or timeout.
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const baseURL = process.argv[2];
const client = new OpenAI({ apiKey: "sk-stand-in", baseURL });
const rt = new OpenAIRealtimeWS({ model: "gpt-realtime-2" }, client);

const timer = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 20000);

/** @param {string} type */
const next = (type) => new Promise((resolve) => rt.once(type, resolve));

rt.on("error", (err) => {
  console.error("realtime error", err?.message ?? err);
  process.exit(3);
});

const result = { url: String(rt.url), text: null, audio_deltas: 0, audio_bytes: 0, transcript: null };
await new Promise((resolve) => rt.socket.on("open", resolve));
await next("session.created");

// a text turn
rt.send({
  type: "conversation.item.create",
  item: { type: "message", role: "user", content: [{ type: "input_text", text: "hello from node" }] },
});
rt.send({ type: "response.create", response: { output_modalities: ["text"] } });
const textDone = await next("response.done");
result.text = textDone.response.output[0].content[0].text;

// an audio turn: push-to-talk with 0.6 s of a 440 Hz tone, then an audio answer
rt.send({ type: "session.update", session: { type: "realtime", audio: { input: { turn_detection: null } } } });
await next("session.updated");
const pcm = Buffer.alloc(24000 * 0.6 * 2);
for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24000)), i * 2);
rt.send({ type: "input_audio_buffer.append", audio: pcm.toString("base64") });
rt.send({ type: "input_audio_buffer.commit" });
await next("input_audio_buffer.committed");
rt.on("response.output_audio.delta", (e) => {
  result.audio_deltas += 1;
  result.audio_bytes += Buffer.from(e.delta, "base64").length;
});
rt.send({ type: "response.create" });
const audioDone = await next("response.done");
result.transcript = audioDone.response.output[0].content[0].transcript;
result.status = audioDone.response.status;

clearTimeout(timer);
console.log(JSON.stringify(result));
rt.close();
process.exit(0);
