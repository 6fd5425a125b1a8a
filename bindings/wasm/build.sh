#!/usr/bin/env bash
# Builds the JS/WASM package into bindings/wasm/pkg:
#   cargo (profile wasm-release, wasm32-unknown-unknown)
#   → wasm-bindgen --target web, at exactly the wasm-bindgen crate's version
#   → wasm-opt -Oz from npm's binaryen (Debian's binaryen 108 writes modules Node 20
#     cannot load)
#   → js/ (the public API and its types) copied beside the generated glue.
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli, `npm ci` here;
# ../../scripts/test installs them when missing.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
target_dir=$(cd "${CARGO_TARGET_DIR:-$root/target}" 2>/dev/null && pwd || echo "$root/target")

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen-cli $want is needed (found: ${have:-none}): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

cargo build -q -p affiliate-sdk-wasm --profile wasm-release --target wasm32-unknown-unknown
rm -rf pkg
wasm-bindgen --target web --out-dir pkg --out-name affiliate_sdk_wasm \
  "$target_dir/wasm32-unknown-unknown/wasm-release/affiliate_sdk_wasm.wasm"
# The features Rust enables by default for wasm32-unknown-unknown, which Node 20 runs.
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types \
  pkg/affiliate_sdk_wasm_bg.wasm -o pkg/affiliate_sdk_wasm_bg.wasm
rm -f pkg/.gitignore pkg/affiliate_sdk_wasm_bg.wasm.d.ts
cp js/*.js js/index.d.ts js/package.json README.md pkg/
printf 'built pkg/: affiliate_sdk_wasm_bg.wasm %s bytes, %s gzip -9\n' \
  "$(wc -c < pkg/affiliate_sdk_wasm_bg.wasm)" "$(gzip -9c pkg/affiliate_sdk_wasm_bg.wasm | wc -c)"
