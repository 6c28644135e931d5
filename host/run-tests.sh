#!/usr/bin/env bash
# The README's test command: every test of the workspace. Tests that drive
# Python clients (the pyzmq subscriber example, the official Hyperliquid SDK
# and the venues' own clients against the emulators) use a virtual environment created here once.
set -euo pipefail
cd "$(dirname "$0")/.."
. host/prerequisites.sh

venv=target/test-venv
# setuptools: the client package (host/python) is installed with pip by a test.
requirements=(pyzmq==27.3.0 hyperliquid-python-sdk==0.24.0 pybit==5.17.0
    binance-sdk-derivatives-trading-usds-futures==18.1.0 ccxt==4.5.90 setuptools==75.8.0)
if ! "$venv/bin/python" -c "import zmq, hyperliquid, pybit, ccxt, binance_sdk_derivatives_trading_usds_futures, setuptools
assert setuptools.__version__ == '75.8.0'" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
fi
export CONNECTOR_TEST_PYTHON="$PWD/$venv/bin/python"

# Every test binary runs even after one fails, so that the end of the
# output lists every failing one.
cargo test --workspace --no-fail-fast "$@"
