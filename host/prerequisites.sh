# Sourced by quickstart.sh and run-tests.sh: what the build needs from the
# system besides Rust, checked before cargo so that a missing one is named.
# libzmq with CURVE comes from the system (.cargo/config.toml says why).
# grep reads the whole list (no -q): under `set -o pipefail` a grep that
# quits at the first match can kill ldconfig with SIGPIPE, and the
# pipeline then fails although the library is there.
if ! ldconfig -p 2>/dev/null | grep 'libzmq\.so ' >/dev/null; then
    echo "libzmq is missing: install it (Debian/Ubuntu: apt-get install libzmq3-dev)" >&2
    exit 2
fi
