#!/usr/bin/env bash
# Instructions per byte (bulk) and per connection (churn) for our engine and smoltcp,
# counted by callgrind. Each figure is marginal: the difference between two runs of
# different sizes, divided by the difference in bytes or connections, so process start-up,
# allocation and connection setup cancel out. For bulk, the application's own byte checking
# (`--stack baseline`) is measured the same way and subtracted ("net").
#
# glibc's `rep movsb` copies would be counted as one instruction per iteration by valgrind;
# the tunable below makes glibc use vector copies for every size, so both stacks' copies are
# counted alike.
#
# Usage: tests/bench-callgrind.sh [OUTDIR]   (default target/callgrind; needs valgrind)
# Env:   BYTES1/BYTES2 (default 8M/40M), CONNS1/CONNS2 (default 200/2000), TOP (default 25),
#        IDLE_BYTES1/IDLE_BYTES2 (default 2M/6M), IDLE_SMOLTCP (smoltcp's idle count, 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/callgrind}
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
cargo build --release -q -p tcp-tests --bin tcp-bench
bin=target/release/tcp-bench
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295
B1=${BYTES1:-8M} B2=${BYTES2:-40M} C1=${CONNS1:-200} C2=${CONNS2:-2000} TOP=${TOP:-25}

bytes() { # 8M -> 8388608
  local n=${1%[KkMm]}
  case $1 in *[Mm]) echo $((n * 1048576));; *[Kk]) echo $((n * 1024));; *) echo "$n";; esac
}

# count NAME ARGS...: total instructions of one run (callgrind output kept as $out/NAME.out)
count() {
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" "$bin" "$@" \
    >"$out/$name.stdout" 2>"$out/$name.log"
  awk '/^(summary|totals):/ { print $2; exit }' "$out/$name.out"
}

per() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%.3f", (b - a) / d }'; }

db=$(( $(bytes "$B2") - $(bytes "$B1") ))
dc=$(( C2 - C1 ))
echo "bulk: $B1 vs $B2 bytes; churn: $C1 vs $C2 connections (marginal counts)" >&2
base1=$(count baseline-bulk-1 bulk --stack baseline --bytes "$B1" --runs 1)
base2=$(count baseline-bulk-2 bulk --stack baseline --bytes "$B2" --runs 1)
base=$(per "$base1" "$base2" "$db")
printf '%-8s %14s %14s %16s\n' stack "instr/byte" "net instr/byte" "instr/connection"
for stack in ours smoltcp; do
  b1=$(count "$stack-bulk-1" bulk --stack "$stack" --bytes "$B1" --runs 1)
  b2=$(count "$stack-bulk-2" bulk --stack "$stack" --bytes "$B2" --runs 1)
  c1=$(count "$stack-churn-1" churn --stack "$stack" --conns "$C1" --runs 1)
  c2=$(count "$stack-churn-2" churn --stack "$stack" --conns "$C2" --runs 1)
  raw=$(per "$b1" "$b2" "$db")
  net=$(awk -v r="$raw" -v b="$base" 'BEGIN { printf "%.3f", r - b }')
  printf '%-8s %14s %14s %16s\n' "$stack" "$raw" "$net" "$(per "$c1" "$c2" "$dc")"
done
echo "(application byte checking: $base instr/byte, subtracted in 'net')"

# Idle connections: marginal instructions per byte of a transfer beside N idle connections.
I1=${IDLE_BYTES1:-2M} I2=${IDLE_BYTES2:-6M}
di=$(( $(bytes "$I2") - $(bytes "$I1") ))
printf '\n%-8s %8s %14s\n' stack idle "instr/byte"
for run in ours:0 ours:10000 smoltcp:0 smoltcp:${IDLE_SMOLTCP:-1000}; do
  stack=${run%%:*} n=${run##*:}
  i1=$(count "$stack-idle$n-1" idle --stack "$stack" --idle "$n" --idle-bytes "$I1" --runs 1)
  i2=$(count "$stack-idle$n-2" idle --stack "$stack" --idle "$n" --idle-bytes "$I2" --runs 1)
  printf '%-8s %8s %14s\n' "$stack" "$n" "$(per "$i1" "$i2" "$di")"
done
# top FILE: exclusive instructions per function, inlined code folded into its function
top() {
  callgrind_annotate --auto=no --inclusive=no --threshold=100 "$1" 2>/dev/null | awk -v top="$TOP" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    /^ *[0-9,]+ \( *[0-9.]+%\)  / && !/PROGRAM TOTALS/ {
      n = $1; gsub(",", "", n)
      f = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\)  /, "", f); sub(/ \[[^]]*\]$/, "", f)
      i = index(f, ":"); if (i) f = substr(f, i + 1)
      sum[f] += n
    }
    END {
      for (f in sum) printf "%14d %6.2f%%  %s\n", sum[f], 100 * sum[f] / total, f | "sort -rn | head -n " top
    }'
}
if command -v callgrind_annotate >/dev/null; then
  for run in ours-bulk-2 ours-churn-2 smoltcp-bulk-2 smoltcp-churn-2; do
    echo
    echo "== $run: top $TOP functions (exclusive, inlined code folded in) =="
    top "$out/$run.out"
  done
fi
