// Builds the explorer into kg/explorer/static/, the files the Python package ships:
// `make run` serves them and needs no Node. The stamp (build.json) names the sources it was
// built from, so a test can tell a stale bundle without Node (tests/explorer/test_bundle.py).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "kg", "explorer", "static");

function files(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

// The same digest as tests/explorer/test_bundle.py: sorted POSIX paths relative to web/, each
// "path NUL sha256(content) LF".
export function sourceDigest() {
  const inputs = [...files(join(here, "src")), ...["build.mjs", "package.json", "package-lock.json"].map((f) => join(here, f))];
  const lines = inputs
    .map((path) => relative(here, path).split("\\").join("/"))
    .sort()
    .map((name) => `${name}\0${createHash("sha256").update(readFileSync(join(here, name))).digest("hex")}\n`);
  return createHash("sha256").update(lines.join("")).digest("hex");
}

// The licence of every npm package that ended up in the bundle, as the bundle ships it.
function licences(inputs) {
  const names = [...new Set(inputs.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)).filter(Boolean).map((m) => m[1]))].sort();
  return names.map((name) => {
    const dir = join(here, "node_modules", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const file = readdirSync(dir).find((f) => /^licen[sc]e/i.test(f));
    const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(no licence file; package.json says ${pkg.license})`;
    return `${name} ${pkg.version} (${pkg.license})\n\n${text}\n`;
  }).join("\n" + "-".repeat(72) + "\n\n");
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "docs"), { recursive: true });
const built = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  legalComments: "linked",
  outfile: join(out, "explorer.js"),
  logLevel: "warning",
  metafile: true,
});
writeFileSync(join(out, "explorer.js.LICENSES.txt"), licences(Object.keys(built.metafile.inputs)));
copyFileSync(join(here, "src", "explorer.css"), join(out, "explorer.css"));
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "src", "icon.svg"), join(out, "icon.svg"));
// /docs offline: Swagger UI's own files, served by kg instead of a CDN.
const swagger = join(here, "node_modules", "swagger-ui-dist");
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]) {
  copyFileSync(join(swagger, name), join(out, "docs", name));
}
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
writeFileSync(
  join(out, "build.json"),
  JSON.stringify({ sources: sourceDigest(), dependencies: pkg.dependencies }, null, 2) + "\n",
);
