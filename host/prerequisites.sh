# Sourced by quickstart.sh and run-tests.sh: what the build needs from the
# system besides Rust, checked before cargo so that a missing one is named.
# libzmq with CURVE comes from the system (.cargo/config.toml says why).
if ! ldconfig -p 2>/dev/null | grep -q 'libzmq\.so '; then
    echo "libzmq is missing: install it (Debian/Ubuntu: apt-get install libzmq3-dev)" >&2
    exit 2
fi
