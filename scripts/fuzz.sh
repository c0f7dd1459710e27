#!/usr/bin/env bash
# libFuzzer over the data readers (Fuzz/DataIOFuzz.swift compiled into the DataIO sources with
# -sanitize=fuzzer,address): JSON, JSONL, CSV, IDX, WRENCH split files and text corpora, each from its committed
# seed corpus in Fuzz/corpus/<target>. Usage: scripts/fuzz.sh [seconds per target (60)] [runs per target (0: no cap)]
# Exits non-zero on the first crash, trap, sanitizer report or timeout; the input that caused it is kept in .build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
runs=${2:-0}
out=.build-fuzz
mkdir -p "$out"
binary="$out/dataio-fuzz"
if [ ! -x "$binary" ] || [ -n "$(find Sources/DataIO Fuzz -newer "$binary" -name '*.swift' | head -1)" ]; then
    swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name DataIO \
        Sources/DataIO/*.swift Sources/DataIO/Text/*.swift Fuzz/DataIOFuzz.swift \
        -Xcc -fmodule-map-file=Sources/CArchive/module.modulemap -I Sources/CArchive -o "$binary"
fi
for target in json jsonl csv idx wrench text; do
    work="$out/corpus-$target"
    mkdir -p "$work"
    cap=()
    [ "$runs" -gt 0 ] && cap=(-runs="$runs")
    log="$out/$target.log"
    if ! FUZZ_TARGET=$target "$binary" "$work" "Fuzz/corpus/$target" -max_total_time="$seconds" "${cap[@]}" \
        -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$out/$target-" -print_final_stats=1 > "$log" 2>&1; then
        tail -30 "$log" >&2
        echo "fuzz: $target: FAILED (the input is in $out/$target-*)" >&2
        exit 1
    fi
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $target: ${executions:-?} executions, no crash"
done
