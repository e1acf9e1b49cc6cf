#!/bin/sh
# deps.sh -- install what rill needs to build and test, if it is missing.
#
# Debian packages via apt-get when run as root; otherwise print the exact
# command and stop.  npm packages (kafkajs, for interop tests) go into
# .deps/node inside the project, never globally.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev zlib1g-dev libsnappy-dev
liblz4-dev libzstd-dev libssl-dev libcmocka-dev librdkafka-dev kcat
python3 python3-pytest python3-kafka python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps: installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "deps: missing Debian packages. Run:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi

# kafkajs (only needed by the interop tests that use it).
if [ "${1:-}" = "--with-node" ]; then
    if [ ! -d .deps/node/node_modules/kafkajs ]; then
        if ! command -v npm >/dev/null 2>&1; then
            if [ "$(id -u)" -eq 0 ]; then
                apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
            else
                echo "deps: npm missing. Run: sudo apt-get install -y nodejs npm" >&2
                exit 1
            fi
        fi
        mkdir -p .deps/node
        (cd .deps/node && npm install --no-audit --no-fund --silent kafkajs@2 >/dev/null) ||
            echo "deps: warning: npm install kafkajs failed; kafkajs tests will fail" >&2
    fi
fi
exit 0
