#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads outside data
# (tests/fuzz/src/lib.rs), each target for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Builds with AddressSanitizer;
# on a stable toolchain RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the unstable
# sanitizer flags. New coverage goes to target/fuzz/corpus/<target>, crashes
# to target/fuzz/artifacts/<target>/ — copy a crash into
# tests/fuzz/regressions/<target>/ once fixed, so `cargo test` replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(plugin_frame plugin_response bybit_frame bybit_response binance_frame binance_response
        command signer_request mark_prices config)
fi

export RUSTC_BOOTSTRAP=1
options=(-O --fuzz-dir tests/fuzz/libfuzzer --target-dir target/fuzz)
mkdir -p target/fuzz
if ! cargo fuzz build "${options[@]}" >target/fuzz/build.log 2>&1; then
    tail -n 60 target/fuzz/build.log
    echo "the fuzz targets did not build (log: target/fuzz/build.log)" >&2
    exit 1
fi

failed=()
for target in "${targets[@]}"; do
    corpus=target/fuzz/corpus/$target
    artifacts=target/fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    echo "== fuzzing $target for ${seconds}s"
    if ! cargo fuzz run "${options[@]}" "$target" \
        "$corpus" "tests/fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 2>"target/fuzz/$target.log"; then
        failed+=("$target")
        tail -n 40 "target/fuzz/$target.log"
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added" "target/fuzz/$target.log" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs in target/fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: no crash in ${targets[*]}"
