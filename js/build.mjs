// Bundle js/src into realtime_nb/static/widget.js (+ widget.css), one file each.
// AudioWorklet processors (*.worklet.js) are bundled separately and inlined as text, so the
// widget loads them from Blob URLs and the bundle stays a single ES module.
// `node build.mjs --check` builds in memory and fails if the committed bundle is stale.
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "realtime_nb", "static");
const check = process.argv.includes("--check");

const workletText = {
  name: "worklet-text",
  setup(build) {
    build.onLoad({ filter: /\.worklet\.js$/ }, async (args) => {
      const result = await esbuild.build({
        entryPoints: [args.path],
        bundle: true,
        format: "iife",
        write: false,
        target: "es2020",
        legalComments: "none",
      });
      return { contents: `export default ${JSON.stringify(result.outputFiles[0].text)};`, loader: "js" };
    });
  },
};

const result = await esbuild.build({
  entryPoints: { widget: path.join(here, "src", "index.js") },
  bundle: true,
  format: "esm",
  target: "es2020",
  outdir,
  write: !check,
  plugins: [workletText],
  legalComments: "none",
  logLevel: check ? "silent" : "info",
});

if (check) {
  let stale = [];
  for (const file of result.outputFiles) {
    let committed = "";
    try {
      committed = readFileSync(file.path, "utf8");
    } catch {
      committed = "";
    }
    if (committed !== file.text) stale.push(path.relative(path.join(here, ".."), file.path));
  }
  if (stale.length) {
    console.error(`The committed bundle is stale: ${stale.join(", ")}. Run 'npm run build' in js/ and commit.`);
    process.exit(1);
  }
  console.log("bundle is current");
}
