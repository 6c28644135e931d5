#!/usr/bin/env bash
# The README's first command: build the host and the Hyperliquid plugin,
# install the plugin where configs/local.toml expects it, check the config
# and show the plugins the host loads.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p connector-host -p hyperliquid-plugin
mkdir -p target/plugins
cp target/release/libhyperliquid_plugin.so target/plugins/
./target/release/connector-host check-config configs/local.toml
./target/release/connector-host plugins --config configs/local.toml
