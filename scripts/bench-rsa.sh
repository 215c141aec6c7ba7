#!/usr/bin/env bash
# Side by side, in one run: kycbot's decryption of the python-telegram-bot
# sample submission (credentials and data, no files) and its bare RSA-2048
# OAEP decryption, python-telegram-bot's decryption of the same submission,
# and `openssl speed rsa2048`'s private operation (the floor on this CPU).
# ROUNDS rounds (default 3), each running the three in turn; ratios are
# taken within a round. Every time is CPU time (the thread's, for kycbot and
# python-telegram-bot; user time, openssl speed's default), which other
# processes on a shared machine disturb far less than the wall clock.
#
#   bash scripts/bench-rsa.sh [ROUNDS]
#
# Needs ../shared/testdata beside the project, python3-python-telegram-bot
# (/usr/bin/python3, or KYCBOT_PTB_PYTHON) and the openssl command.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
sample=../shared/testdata/passport/ptb-passport-1.1.json
py=${KYCBOT_PTB_PYTHON:-/usr/bin/python3}
[ -f "$sample" ] || { echo "bench-rsa: $sample not found (clone ../shared beside the project)" >&2; exit 1; }
"$py" -c 'import telegram.passport' 2>/dev/null ||
  { echo "bench-rsa: python-telegram-bot missing: apt-get install python3-python-telegram-bot" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench-rsa: the openssl command is missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/passport.test" ./passport
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(openssl version)"

# metric NAME FILE: the value of a benchmark's custom metric (the median
# of the -count runs).
metric() {
  awk -v m="$1" '{for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}' "$2" | sort -g |
    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

printf '%-6s %12s %12s %12s %12s %12s %12s | %10s %10s %10s %10s\n' round \
  kyc-botapi kyc-parsed kyc-rsa ptb-full ptb-rsa ossl-sign \
  rsa/ossl botapi/rsa parsed/rsa ptb/kyc
for r in $(seq "$rounds"); do
  (cd passport && "$tmp/passport.test" -test.run XXX -test.bench 'SubmissionVsRSA/native' \
    -test.benchtime 2s -test.count 3) >"$tmp/go.txt"
  grep -q '^ok\|^PASS' "$tmp/go.txt" || { cat "$tmp/go.txt" >&2; exit 1; }
  grep 'native/botapi' "$tmp/go.txt" >"$tmp/botapi.txt"
  grep 'native/parsed' "$tmp/go.txt" >"$tmp/parsed.txt"
  botapi=$(metric full-cpu-ns/op "$tmp/botapi.txt")
  parsed=$(metric full-cpu-ns/op "$tmp/parsed.txt")
  kycrsa=$(metric rsa-cpu-ns/op "$tmp/parsed.txt")
  botrsa=$(metric rsa-cpu-ns/op "$tmp/botapi.txt")
  "$py" passport/testdata/ptb_bench.py --cpu "$sample" >"$tmp/ptb.txt"
  ptbfull=$(awk '$1 == "ptb_decrypt_ns_per_op" {print $2}' "$tmp/ptb.txt")
  ptbrsa=$(awk '$1 == "ptb_rsa_ns_per_op" {print $2}' "$tmp/ptb.txt")
  # -mr: "+F2:<n>:<bits>:<private ops per second>:<public ops per second>"
  sign=$(openssl speed -seconds 3 -mr rsa2048 2>/dev/null | awk -F: '$1 == "+F2" {printf "%d", 1e9 / $4}')
  awk -v r="$r" -v a="$botapi" -v p="$parsed" -v k="$kycrsa" -v kb="$botrsa" -v f="$ptbfull" -v pr="$ptbrsa" -v s="$sign" 'BEGIN {
    printf "%-6s %9.1f us %9.1f us %9.1f us %9.1f us %9.1f us %9.1f us | %10.3f %10.3f %10.3f %10.2f\n",
      r, a/1e3, p/1e3, k/1e3, f/1e3, pr/1e3, s/1e3, k/s, a/kb, p/k, f/a }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "kyc-*: go test ./passport -bench SubmissionVsRSA/native, CPU time (median of 3; kyc-rsa: the bare RSA of the parsed run;"
echo "  botapi/rsa and parsed/rsa: each over the bare RSA interleaved with it);"
echo "ptb-*: passport/testdata/ptb_bench.py --cpu; ossl-sign: openssl speed -seconds 3 rsa2048, private operation;"
echo "ptb/kyc: python-telegram-bot's full decryption over kycbot's from the same Bot API JSON."
