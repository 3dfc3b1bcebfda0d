// Unpacks the Chromium that the npm package @sparticuz/chromium ships (brotli-compressed, built for
// serverless: headless shell, no sandbox helper, no root needed) into a directory and prints the binary's path.
//
//   node scripts/chromium-path.mjs .state/chromium      ->  /abs/.state/chromium/chromium
//
// `make setup` runs it into .state/chromium (shared/screenshots/chromium.py looks there), the screenshot
// image's Dockerfile into /opt/chromium. Beside the binary: fonts/ (with a fonts.conf naming them), SwiftShader,
// and al2023/lib: the shared libraries Chromium needs that Amazon Linux 2023 (Lambda's base image) lacks
// (the image puts them on LD_LIBRARY_PATH; a Debian or Ubuntu machine has its own and does not use them).
//
// The package's executablePath() inflates into os.tmpdir(): the binary, its fonts (fonts/) and SwiftShader's
// GL libraries, side by side. We point TMPDIR at a fresh staging directory, let it inflate there, and rename the
// staging directory into place, so an interrupted run never leaves a truncated binary that a later run would
// take for a good one (executablePath() only checks that the file exists). Safe to run again: an unpacked
// directory of the same package version is kept.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const target = resolve(process.argv[2] ?? ".state/chromium");
const entry = fileURLToPath(import.meta.resolve("@sparticuz/chromium")); // <package>/build/index.js
const { version } = JSON.parse(readFileSync(resolve(dirname(entry), "..", "package.json"), "utf8"));
const marker = resolve(target, "VERSION");

if (!(existsSync(marker) && readFileSync(marker, "utf8").trim() === version)) {
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  process.env.TMPDIR = staging; // os.tmpdir() reads it on every call
  mkdirSync(staging, { recursive: true });
  const { default: chromium, inflate } = await import("@sparticuz/chromium");
  const executable = await chromium.executablePath();
  // executablePath() inflates these only when it believes it runs on Lambda's Node.js runtime.
  await inflate(resolve(dirname(entry), "..", "bin", "al2023.tar.br"));
  if (executable !== resolve(staging, "chromium")) {
    throw new Error(`@sparticuz/chromium inflated to ${executable}, not into ${staging}`);
  }
  // The package's fonts.conf names Lambda's directories (/tmp/fonts...); ours names where the fonts are after the
  // rename, and keeps the system's fonts too. The screenshot engine points FONTCONFIG_PATH here.
  writeFileSync(
    resolve(staging, "fonts", "fonts.conf"),
    [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
      "<fontconfig>",
      '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
      `  <dir>${resolve(target, "fonts", "fonts")}</dir>`,
      `  <cachedir>${resolve(target, "fonts", "cache")}</cachedir>`,
      "</fontconfig>",
      "",
    ].join("\n"),
  );
  writeFileSync(resolve(staging, "VERSION"), `${version}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
}
console.log(resolve(target, "chromium"));
