// The AudioWorkletGlobalScope names the two worklets use. TypeScript's DOM library describes the
// page side (AudioWorkletNode) but not the worklet side, so they are declared here for the
// type check only (`npm run typecheck`); nothing here reaches the bundle.
declare const sampleRate: number;
declare const currentTime: number;
declare const currentFrame: number;

declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: AudioWorkletNodeOptions);
}

declare function registerProcessor(
  name: string,
  processorCtor: new (options?: AudioWorkletNodeOptions) => AudioWorkletProcessor,
): void;
