#!/usr/bin/env bash
# Builds the release both ways, with `cargo xtask build` and with cargo-leptos 0.3.10
# (`cargo leptos build --release --precompress --split`), and checks that they make the
# same site: the same files once content hashes are set aside, and the Playwright suite
# passing on the cargo-leptos build too (`./dev test` runs it on the xtask build). Prints
# the sizes of the main JS, wasm and CSS side by side. Run it once when xtask/ changes;
# it needs cargo-leptos installed (`cargo install --locked cargo-leptos@0.3.10`, about
# 20 minutes on 2 cores), so it is not part of `./dev test`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-leptos >/dev/null || {
  echo "cargo-leptos is not installed: cargo install --locked cargo-leptos@0.3.10" >&2
  exit 2
}
out=$(mktemp -d)
# The site's files, a content hash (`name.<22 base64url characters>.ext`) written HASH.
listing() {
  (cd target/site && find . -type f | sed -E 's/\.[A-Za-z0-9_-]{22}\././' | sort)
}
# The size of the site's main file of a kind (js, wasm, css), uncompressed and brotli.
sizes() {
  local kind=$1 file
  file=$(find target/site/pkg -maxdepth 1 -name "gatehouse.*.$kind" | head -1)
  printf '%s %s %s\n' "$kind" "$(stat -c %s "$file")" "$(stat -c %s "$file.br")"
}
echo "==> cargo xtask build"
cargo xtask build >"$out/xtask.log" 2>&1 || { tail -20 "$out/xtask.log"; exit 1; }
listing >"$out/xtask.txt"
for kind in js wasm css; do sizes "$kind"; done >"$out/xtask-sizes.txt"
echo "==> cargo leptos build --release --precompress --split"
cargo leptos build --release --precompress --split >"$out/leptos.log" 2>&1 || { tail -20 "$out/leptos.log"; exit 1; }
listing >"$out/leptos.txt"
for kind in js wasm css; do sizes "$kind"; done >"$out/leptos-sizes.txt"
# Whatever ./dev builds next is xtask's again.
rm -f target/release/.built-from
echo "==> files (content hashes set aside): $(wc -l <"$out/xtask.txt") from xtask, $(wc -l <"$out/leptos.txt") from cargo-leptos"
if ! diff "$out/xtask.txt" "$out/leptos.txt"; then
  echo "the two builds differ in the files they make (above: < xtask, > cargo-leptos)" >&2
  exit 1
fi
echo "==> main files: kind, bytes and brotli bytes (xtask | cargo-leptos)"
paste -d' ' "$out/xtask-sizes.txt" "$out/leptos-sizes.txt" | awk '{printf "  %-5s %9d %8d | %9d %8d\n", $1, $2, $3, $5, $6}'
echo "==> Playwright on the cargo-leptos build"
(cd end2end && npx playwright test)
rm -rf "$out"
