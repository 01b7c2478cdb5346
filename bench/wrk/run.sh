#!/usr/bin/env bash
# Side by side with wrk on loopback: notpanel and the reference server
# (../shared/limitref), same machine, same run. Prints requests per second
# for add, status and services, and the ratios the performance targets are
# stated in.
#
#   bench/wrk/run.sh [SECONDS]      (default 10 per measurement)
#
# Needs wrk (apt install wrk) and Go. LIMITREF_DIR points at the reference
# server's source when it is not ../shared/limitref beside the repository;
# NOTPANEL_BIN at a notpanel binary to measure instead of this tree's.
set -euo pipefail
secs="${1:-10}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
limitref="${LIMITREF_DIR:-$root/../shared/limitref}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

command -v wrk >/dev/null || { echo "wrk not found: apt install wrk" >&2; exit 1; }
if [ -n "${NOTPANEL_BIN:-}" ]; then # a build to compare, instead of this tree's
	cp "$NOTPANEL_BIN" "$work/notpanel"
else
	go build -o "$work/notpanel" "$root"
fi
(cd "$limitref" && go build -o "$work/limitref" .)

# A panel with 100 funded customers, one key each, a service, and an order
# per customer for status.
np="$work/notpanel"
export NOTPANEL_DB="$work/notpanel.db" NOTPANEL_LOG_LEVEL=error
"$np" tier set wide --key-per-min 1000000000 --account-per-min 1000000000 >/dev/null 2>&1
"$np" provider add --url https://provider.invalid/api/v2 --key k upstream >/dev/null 2>&1
svc="$("$np" service add --name Followers --category Instagram --rate 1.00 --min 10 --max 100000 \
	--provider upstream --provider-service 1 2>/dev/null)"
# A catalog of 100 services, as a small panel sells: about 20 KB of JSON.
for i in $(seq 2 100); do
	"$np" service add --name "Service $i" --category "Category $((i % 10))" --rate 0.$((i + 10)) --min 10 \
		--max 100000 --provider upstream --provider-service "$i" >/dev/null 2>&1
done
for i in $(seq 1 100); do
	"$np" user add "c$i" --tier wide >/dev/null 2>&1
	"$np" funds add "c$i" 1000000000 >/dev/null 2>&1
	"$np" key create "c$i" 2>/dev/null >>"$work/keys"
done

np_addr=127.0.0.1:18090 lr_addr=127.0.0.1:18089
"$np" --log-level info serve --listen "$np_addr" --ops-listen off --worker=false --ip-per-min 1000000000 --max-conns 100000 --max-conns-per-client 100000 >"$work/serve.log" 2>&1 &
"$work/limitref" -addr "$lr_addr" -db "$work/limitref.db" -sync FULL >"$work/limitref.log" 2>&1 &
for addr in "$np_addr" "$lr_addr"; do
	for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.2; done
done
while read -r key; do
	curl -s -d "key=$key&action=add&service=$svc&link=https://instagram.com/p/x&quantity=100&request_id=seed" \
		"http://$np_addr/api/v2" | sed -e 's/.*"order":"\([^"]*\)".*/\1/' -e "s/^/$key /" >>"$work/orders"
done <"$work/keys"
if grep -v ' ord_' "$work/orders" >&2; then # a seeding add failed: status would ask for garbage
	echo "seeding orders failed" >&2
	exit 1
fi

export KEYS="$work/keys" ORDERS="$work/orders" SERVICE="$svc"
measure() { # name url script
	local out rps
	out="$(wrk -t2 -c32 -d"${secs}s" -s "$here/$3" "$2")"
	# notpanel answers errors with 4xx: a run of them is not throughput.
	if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
		echo "$1: some answers were errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	rps="$(awk '/Requests\/sec/ {print int($2)}' <<<"$out")"
	printf '%-20s %8s/s\n' "$1" "$rps" >&2
	echo "$rps"
}
np_add=$(measure "notpanel add" "http://$np_addr/api/v2" notpanel_add.lua)
lr_add=$(measure "limitref add" "http://$lr_addr/add" limitref_add.lua)
np_status=$(measure "notpanel status" "http://$np_addr/api/v2" notpanel_status.lua)
lr_status=$(measure "limitref status" "http://$lr_addr/status" limitref_status.lua)
np_services=$(measure "notpanel services" "http://$np_addr/api/v2" notpanel_services.lua)
np_services_gz=$(NP_GZIP=1 measure "notpanel services gzip" "http://$np_addr/api/v2" notpanel_services.lua)
echo "add: notpanel / limitref = $(awk "BEGIN {printf \"%.2f\", $np_add / $lr_add}") (target 0.80)"
echo "status: notpanel / limitref = $(awk "BEGIN {printf \"%.2f\", $np_status / $lr_status}") (target 0.80)"
echo "services, 100 in the catalog: $np_services/s plain, $np_services_gz/s gzipped (target 25000)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
