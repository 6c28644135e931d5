#!/usr/bin/env bash
# The README's first command. Builds everything, starts the bundled
# Hyperliquid, Bybit and Binance USDⓈ-M emulators, then connector-host with
# configs/local.toml (which starts the signer with the demo keys), and a
# subscriber; places a few orders on each venue through the command socket
# and shows their events; stops it all.
#
#   host/quickstart.sh [--no-build] [--base-port N]
#
# --no-build uses the binaries already in target/release and the plugins in
# target/plugins (as the Docker image lays them out). --base-port N moves
# every port off the defaults: events N, commands N+1, the Hyperliquid,
# Bybit and Binance emulators N+2, N+3, N+4 (the config is then written to
# target/demo/local.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
. host/prerequisites.sh

build=yes
base_port=
while [ $# -gt 0 ]; do
    case $1 in
        --no-build) build=no ;;
        --base-port) base_port=${2:?--base-port needs a number}; shift ;;
        *) echo "usage: $0 [--no-build] [--base-port N]" >&2; exit 2 ;;
    esac
    shift
done

bin=target/release
if [ $build = yes ]; then
    cargo build --release -p connector-host -p connector-signer -p hl-emulator -p hyperliquid-plugin -p bybit-plugin -p binance-plugin
    mkdir -p target/plugins
    cp "$bin/libhyperliquid_plugin.so" "$bin/libbybit_plugin.so" "$bin/libbinance_plugin.so" target/plugins/
fi
chmod 600 configs/local-demo.key configs/local-demo-bybit.secret configs/local-demo-binance.pem   # git does not keep file modes

config=configs/local.toml
events_port=5555 commands_port=5556 hl_port=8099 bybit_port=8098 binance_port=8097
if [ -n "$base_port" ]; then
    events_port=$base_port commands_port=$((base_port + 1)) hl_port=$((base_port + 2))
    bybit_port=$((base_port + 3)) binance_port=$((base_port + 4))
    mkdir -p target/demo
    chmod 700 target/demo
    config=target/demo/local.toml
    sed -e "s/:5555\"/:$events_port\"/; s/:5556\"/:$commands_port\"/" \
        -e "s/:8099\"/:$hl_port\"/; s/:8098\"/:$bybit_port\"/; s/:8097\"/:$binance_port\"/" \
        -e 's|"\.\./target/|"../|' -e 's|"local-demo-keyring.toml"|"../../configs/local-demo-keyring.toml"|' \
        configs/local.toml >"$config"
fi
export CONNECTOR_HOST_CONFIG=$config
bybit_key=local-demo-bybit
bybit_secret=$(cat configs/local-demo-bybit.secret)
binance_key=local-demo-binance
rm -rf target/state/local-1              # a fresh emulator, a fresh journal
account=$("$bin/connector-signer" address --allow-demo-keys --key-file configs/local-demo.key)

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

echo "== starting the Hyperliquid emulator on 127.0.0.1:$hl_port (account $account funded)"
"$bin/hl-emulator" --listen 127.0.0.1:$hl_port --seed 7 --fund "$account:100000" >target/emulator.log 2>&1 &
pids+=($!)
echo "== starting the Bybit emulator on 127.0.0.1:$bybit_port (key $bybit_key funded)"
"$bin/bybit-emulator" --listen 127.0.0.1:$bybit_port --seed 7 --fund "$bybit_key:$bybit_secret:100000" >target/bybit-emulator.log 2>&1 &
pids+=($!)
echo "== starting the Binance USDⓈ-M emulator on 127.0.0.1:$binance_port (Ed25519 key $binance_key funded)"
"$bin/binance-emulator" --listen 127.0.0.1:$binance_port --seed 7 --fund-ed25519 "$binance_key:configs/local-demo-binance.pub.pem:100000" >target/binance-emulator.log 2>&1 &
pids+=($!)
echo "== starting connector-host (it starts the signer)"
"$bin/connector-host" run >target/host.log 2>&1 &
host=$!
pids+=($host)
for _ in $(seq 100); do
    "$bin/connector-host" order status >/dev/null 2>&1 && break
    sleep 0.1
done
"$bin/connector-host" order status >/dev/null || { echo "the host did not start; see target/host.log"; exit 1; }

echo "== subscribing to orders.* and account.* (connector-host tail)"
: >target/events.log                     # two subscribers, each appending
"$bin/connector-host" tail --topic orders. >>target/events.log 2>&1 &
pids+=($!)
"$bin/connector-host" tail --topic account. >>target/events.log 2>&1 &
pids+=($!)
sleep 1

order() { local exchange=$1; shift; "$bin/connector-host" order --exchange "$exchange" "$@"; }
id_of() { sed -n 's/.*"client_order_id": "\(0x[0-9a-f]*\)".*/\1/p' | head -1; }
# An order command whose refusal is shown and ends the run.
must() {
    local reply
    reply=$(order "$@") || { echo "   refused: $reply" >&2; return 1; }
    echo "$reply"
}
ids=()

# On one exchange and pair: a limit buy below the market (rests), amended
# in place to a lower price, a market buy (fills), the cancel of the
# resting one, a reduce-only market sell (closes the position).
trade() {
    local exchange=$1 pair=$2 below=$3 lower=$4 resting filled closing
    echo "== $exchange $pair: a limit buy below the market (rests, then modified), a market buy (fills), the limit cancelled, a market sell"
    resting=$(must "$exchange" buy --trading-pair "$pair" --price "$below" --amount 0.002 | id_of)
    echo "   limit buy   $resting at $below"
    sleep 0.5
    must "$exchange" modify --client-order-id "$resting" --price "$lower" >/dev/null
    echo "   modify      $resting to $lower"
    filled=$(must "$exchange" buy --trading-pair "$pair" --order-type market --amount 0.002 | id_of)
    echo "   market buy  $filled"
    sleep 1
    must "$exchange" cancel --client-order-id "$resting" >/dev/null
    echo "   cancel      $resting"
    closing=$(must "$exchange" sell --trading-pair "$pair" --order-type market --amount 0.002 --reduce-only | id_of)
    echo "   market sell $closing (reduce-only: closes the position)"
    ids+=("$exchange:$resting" "$exchange:$filled" "$exchange:$closing")
}
trade hl-local BTC-USD 97000 96500
trade bybit-local BTC-USDT 97000 96500
trade binance-local BTC-USDT 97000 96500
sleep 2

echo "== what a subscriber received:"
sed -E 's/"timestamp":[0-9]+,//; s/(.{220}).*/\1…/' target/events.log
echo "== orders as the host sees them now:"
for entry in "${ids[@]}"; do
    order "${entry%%:*}" get-order --client-order-id "${entry#*:}" | sed -n 's/.*"\(client_order_id\|order_state\|filled_amount\|average_executed_price\)": \(.*\),*/   \1 \2/p' | tr -d ',' | paste -sd' '
done

echo "== fills, from the host's journal (connector-host order fills):"
for exchange in hl-local bybit-local binance-local; do
    order "$exchange" fills | sed -n 's/.*"\(client_order_id\|trade_type\|fill_price\|fill_amount\)": \(.*\),*/\1 \2/p' \
        | tr -d ',"' | paste -d' ' - - - - | sed "s/^/   $exchange /"
done

echo "== stopping (SIGTERM: commands stop, the journal is flushed)"
kill -TERM "$host"
wait "$host" || true
echo "done; logs in target/host.log, target/emulator.log, target/bybit-emulator.log, target/binance-emulator.log, target/events.log"
