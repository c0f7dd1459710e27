#!/usr/bin/env bash
# libFuzzer over the parsers of user input, each harness compiled into its module's sources with
# -sanitize=fuzzer,address: the data readers (Fuzz/DataIOFuzz.swift: JSON, JSONL, CSV, IDX, WRENCH split files and
# text corpora), the recipe decoder (Fuzz/RecipeFuzz.swift, with Yams and its C parser built beside it) and the
# safetensors reader (Fuzz/SafeTensorsFuzz.swift, with the Tensors module), each target from its committed seed
# corpus in Fuzz/corpus/<target>. Usage: scripts/fuzz.sh [seconds per target (60)] [runs per target (0: no cap)]
# Exits non-zero on the first crash, trap, sanitizer report or timeout; the input that caused it is kept in .build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
runs=${2:-0}
out=.build-fuzz
mkdir -p "$out"
binary="$out/dataio-fuzz"
build_log="$out/build.log"
quietly() { "$@" >> "$build_log" 2>&1 || { tail -40 "$build_log" >&2; echo "fuzz: building failed: $*" >&2; exit 1; }; }
if [ ! -x "$binary" ] || [ -n "$(find Sources/DataIO Fuzz -newer "$binary" -name '*.swift' | head -1)" ]; then
    quietly swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name DataIO \
        Sources/DataIO/*.swift Sources/DataIO/Text/*.swift Fuzz/DataIOFuzz.swift \
        -Xcc -fmodule-map-file=Sources/CArchive/module.modulemap -I Sources/CArchive -o "$binary"
fi
# The recipe decoder: Yams (Swift) and CYaml (C) from the package checkout, then Recipes with the harness.
[ -d .build/checkouts/Yams ] || swift package resolve > /dev/null
yams=.build/checkouts/Yams/Sources
recipe_binary="$out/recipe-fuzz"
if [ ! -x "$recipe_binary" ] || [ -n "$(find Sources/Recipes Fuzz -newer "$recipe_binary" -name '*.swift' | head -1)" ]; then
    for file in "$yams"/CYaml/src/*.c; do
        quietly clang -c -O1 -DYAML_DECLARE_STATIC -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" "$file" \
            -o "$out/cyaml-$(basename "$file" .c).o"
    done
    yaml_flags=(-Xcc -DYAML_DECLARE_STATIC -Xcc -fmodule-map-file="$yams/CYaml/include/module.modulemap" -I "$yams/CYaml/include")
    quietly swiftc -O -parse-as-library -sanitize=fuzzer,address -D SWIFT_PACKAGE -emit-module -emit-library -static \
        -module-name Yams "$yams"/Yams/*.swift "${yaml_flags[@]}" -emit-module-path "$out/Yams.swiftmodule" -o "$out/libYams.a"
    quietly swiftc -O -parse-as-library -sanitize=fuzzer,address -package-name winnow -module-name Recipes \
        Sources/Recipes/*.swift Fuzz/RecipeFuzz.swift -I "$out" "${yaml_flags[@]}" "$out/libYams.a" "$out"/cyaml-*.o \
        -o "$recipe_binary"
fi
# The safetensors reader: the Tensors module (and its C kernels), then the reader with the harness.
safetensors_binary="$out/safetensors-fuzz"
if [ ! -x "$safetensors_binary" ] \
    || [ -n "$(find Sources/Tensors Sources/NeuralNetworks/Serialization Fuzz -newer "$safetensors_binary" -name '*.swift' | head -1)" ]; then
    mkdir -p "$out/ckernels"
    printf 'module CKernels {\n    header "%s/Sources/CKernels/include/winnow_kernels.h"\n    export *\n}\n' "$PWD" \
        > "$out/ckernels/module.modulemap"
    for file in Sources/CKernels/*.c; do
        quietly clang -c -O2 -fsanitize=fuzzer-no-link,address -I Sources/CKernels/include "$file" -o "$out/ck-$(basename "$file" .c).o"
    done
    c_flags=(-Xcc -fmodule-map-file=Sources/CBLAS/module.modulemap -I Sources/CBLAS -Xcc -fmodule-map-file="$out/ckernels/module.modulemap")
    quietly swiftc -O -parse-as-library -sanitize=fuzzer,address -package-name winnow -emit-module -emit-library -static \
        -module-name Tensors $(find Sources/Tensors -name '*.swift') "${c_flags[@]}" -emit-module-path "$out/Tensors.swiftmodule" \
        -o "$out/libTensors.a"
    quietly swiftc -O -parse-as-library -sanitize=fuzzer,address -package-name winnow -module-name NeuralNetworks \
        Sources/NeuralNetworks/Serialization/SafeTensors.swift Fuzz/SafeTensorsFuzz.swift -I "$out" "${c_flags[@]}" \
        "$out/libTensors.a" "$out"/ck-*.o -lopenblas -o "$safetensors_binary"
fi
for target in json jsonl csv idx wrench text recipe safetensors; do
    case $target in
        recipe) target_binary=$recipe_binary ;;
        safetensors) target_binary=$safetensors_binary ;;
        *) target_binary=$binary ;;
    esac
    work="$out/corpus-$target"
    mkdir -p "$work"
    cap=()
    [ "$runs" -gt 0 ] && cap=(-runs="$runs")
    log="$out/$target.log"
    if ! FUZZ_TARGET=$target "$target_binary" "$work" "Fuzz/corpus/$target" -max_total_time="$seconds" "${cap[@]}" \
        -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$out/$target-" -print_final_stats=1 > "$log" 2>&1; then
        tail -30 "$log" >&2
        echo "fuzz: $target: FAILED (the input is in $out/$target-*)" >&2
        exit 1
    fi
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $target: ${executions:-?} executions, no crash"
done
