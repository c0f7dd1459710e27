#!/usr/bin/env bash
# MPI across two hosts made on this machine (run by scripts/test.sh after test-mpi.sh):
#   set-up: two network namespaces joined by a veth pair, each with its own address, an Open MPI hostfile naming
#   the two addresses and a launcher (Open MPI's `plm_rsh_agent`) that starts the remote daemon inside the other
#   namespace instead of over ssh; mpirun itself runs in the first namespace; ranks talk over TCP only;
#   1. `winnow run` of the quickstart recipe on one rank per host: the same test accuracy as one process;
#   2. the noisy-label recipe across the hosts, the second host's rank killed with SIGKILL in epoch 2: the job
#      ends within 30 s, exit ≠ 0, the run is marked failed; `--resume` across the hosts ends where an
#      uninterrupted cross-host run ends.
# Tear-down (namespaces, links, files) runs on every exit. Without root or without network namespaces the script
# says so and exits 0.
# Usage: scripts/test-hosts.sh [winnow binary]
set -euo pipefail
cd "$(dirname "$0")/.."
winnow=$(realpath "${1:-.build/release/winnow}")
export OPENBLAS_NUM_THREADS=1
skip() { echo "test-hosts: skipped: $*"; exit 0; }
fail() { echo "test-hosts: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "network namespaces need root (this is uid $(id -u))"
command -v ip > /dev/null || skip "no 'ip' command (package iproute2)"
command -v mpirun > /dev/null || fail "no mpirun (run scripts/setup.sh)"

tag=$$
host_a=winnow-a-$tag host_b=winnow-b-$tag
address_a=10.213.0.1 address_b=10.213.0.2
tmp=$(mktemp -d)
teardown() {
    ip netns del "$host_a" 2> /dev/null || true
    ip netns del "$host_b" 2> /dev/null || true
    rm -rf "$tmp"
}
trap teardown EXIT
ip netns add "$host_a" 2> "$tmp/netns.err" || skip "this machine does not allow network namespaces: $(cat "$tmp/netns.err")"
ip netns add "$host_b"
# Interface names are at most 15 characters; deleting a namespace deletes its end of the pair and with it the pair.
ip link add "wva$tag" type veth peer name "wvb$tag"
ip link set "wva$tag" netns "$host_a"
ip link set "wvb$tag" netns "$host_b"
ip -n "$host_a" addr add "$address_a/24" dev "wva$tag"
ip -n "$host_b" addr add "$address_b/24" dev "wvb$tag"
for host in "$host_a" "$host_b"; do
    ip -n "$host" link set lo up
    ip -n "$host" link set "wv${host:7:1}$tag" up
done

# Open MPI calls the agent as `agent HOST COMMAND...`, COMMAND being a shell command line for the remote daemon.
cat > "$tmp/netns-launch" << EOF
#!/bin/sh
host=\$1; shift
case "\$host" in
    $address_a) namespace=$host_a ;;
    $address_b) namespace=$host_b ;;
    *) echo "netns-launch: unknown host '\$host'" >&2; exit 1 ;;
esac
exec ip netns exec "\$namespace" /bin/sh -c "\$*"
EOF
chmod +x "$tmp/netns-launch"
printf '%s slots=1\n%s slots=1\n' "$address_a" "$address_b" > "$tmp/hostfile"
across=(ip netns exec "$host_a" mpirun --allow-run-as-root -np 2 --hostfile "$tmp/hostfile" --map-by node
    --mca plm_rsh_agent "$tmp/netns-launch" --mca btl tcp,self --mca btl_tcp_if_include 10.213.0.0/24
    --mca oob_tcp_if_include 10.213.0.0/24 -x OPENBLAS_NUM_THREADS)
echo "test-hosts: hosts $address_a ($host_a) and $address_b ($host_b), one rank each, TCP between them"

"${across[@]}" /bin/sh -c 'echo "rank $OMPI_COMM_WORLD_RANK in $(ip -o -4 addr show scope global | awk "{print \$4}")"' \
    > "$tmp/where.out" 2> "$tmp/where.err" || fail "mpirun across the namespaces: $(tail -3 "$tmp/where.err")"
grep -q "rank 0 in $address_a" "$tmp/where.out" && grep -q "rank 1 in $address_b" "$tmp/where.out" \
    || fail "ranks not placed one per host: $(tr '\n' ';' < "$tmp/where.out")"

accuracy() { sed -n 's/.*"test_accuracy": *\([0-9.]*\).*/\1/p' "$1" | head -1; }
digits=(Recipes/classify/digits.yaml --set training.epochs=4)
"$winnow" run "${digits[@]}" --db "$tmp/one.sqlite" --json > "$tmp/one.json" 2> /dev/null || fail "one-process run"
"${across[@]}" "$winnow" run "${digits[@]}" --db "$tmp/hosts.sqlite" --json > "$tmp/hosts.json" 2> "$tmp/hosts.err" \
    || fail "cross-host run exited non-zero: $(tail -3 "$tmp/hosts.err")"
[ -n "$(accuracy "$tmp/one.json")" ] && [ "$(accuracy "$tmp/one.json")" = "$(accuracy "$tmp/hosts.json")" ] \
    || fail "cross-host test accuracy $(accuracy "$tmp/hosts.json") differs from one process $(accuracy "$tmp/one.json")"
sqlite3 "$tmp/hosts.sqlite" "SELECT environment FROM runs WHERE id = 1" | grep -q '"mpi_ranks":2' \
    || fail "the cross-host run did not record 2 ranks in its environment"
echo "test-hosts: a run across the two hosts matches one process (test accuracy $(accuracy "$tmp/hosts.json"))"

noisy=(Recipes/noisy-labels/sama-reweight-correct.yaml --set training.epochs=2)
"${across[@]}" "$winnow" run "${noisy[@]}" --db "$tmp/whole.sqlite" --json > "$tmp/whole.json" 2> /dev/null \
    || fail "cross-host noisy-labels run exited non-zero"

# The second host's rank: the winnow process inside its namespace.
remote_rank() {
    for pid in $(ip netns pids "$host_b"); do
        [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = winnow ] && { echo "$pid"; return; }
    done
}
"${across[@]}" "$winnow" run "${noisy[@]}" --db "$tmp/killed.sqlite" > /dev/null 2> "$tmp/killed.err" &
job=$!
for _ in $(seq 600); do
    steps=$(sqlite3 "$tmp/killed.sqlite" "SELECT COUNT(*) FROM metrics WHERE step >= 1" 2> /dev/null || echo 0)
    [ "${steps:-0}" -gt 0 ] && break
    sleep 0.1
done
[ "${steps:-0}" -gt 0 ] || fail "the run to be killed recorded no epoch within 60 s"
pid=$(remote_rank)
[ -n "$pid" ] || fail "no winnow process in $host_b"
start=$(date +%s)
kill -KILL "$pid"
set +e
wait "$job"
status=$?
set -e
elapsed=$(( $(date +%s) - start ))
[ "$status" -ne 0 ] || fail "killing the second host's rank: exit status 0"
[ "$elapsed" -le 30 ] || fail "killing the second host's rank: the job took ${elapsed}s to end (limit 30 s)"
[ "$(sqlite3 "$tmp/killed.sqlite" "SELECT status FROM runs WHERE id = 1")" = failed ] \
    || fail "killing the second host's rank: run status '$(sqlite3 "$tmp/killed.sqlite" "SELECT status FROM runs WHERE id = 1")'"
echo "test-hosts: SIGKILL of the rank on $address_b ended the job in ${elapsed}s with status $status; run marked failed"
"${across[@]}" "$winnow" run --resume 1 --db "$tmp/killed.sqlite" --json > "$tmp/resumed.json" 2> "$tmp/resumed.err" \
    || fail "cross-host resume exited non-zero: $(tail -3 "$tmp/resumed.err")"
[ "$(accuracy "$tmp/resumed.json")" = "$(accuracy "$tmp/whole.json")" ] \
    || fail "resumed test accuracy $(accuracy "$tmp/resumed.json") differs from the uninterrupted $(accuracy "$tmp/whole.json")"
echo "test-hosts: resumed across the hosts to the uninterrupted result (test accuracy $(accuracy "$tmp/resumed.json"))"
echo "test-hosts: all cross-host checks passed"
