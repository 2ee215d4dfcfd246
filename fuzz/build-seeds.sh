#!/usr/bin/env bash
# Build the seed corpora for every fuzz target from the TCP segments in ../shared/pcaps.
# The corpora are generated at run time into fuzz/corpus/ and never committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${TCP_SHARED_DIR:-$here/../../shared}
cd "$here/.."
cargo run --quiet -p tcp-tests --bin fuzz-seeds -- "$shared/pcaps" "$here/corpus"
# Whole capture files for the `pcap` target; the `engine` target starts from an empty corpus.
mkdir -p "$here/corpus/pcap" "$here/corpus/engine"
cp "$shared"/pcaps/seeds/* "$shared"/pcaps/replay/*.pcap* "$here/corpus/pcap/"
