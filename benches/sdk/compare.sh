#!/usr/bin/env bash
# Races butterfly against the official Okta Python SDK on the same fake org and limits.
# Sets up its own virtualenv (benches/.venv), builds the release binaries, starts the fake,
# runs both, prints the times and the ratio.
#
#   bash benches/sdk/compare.sh [users] [rate-scale]     (defaults: 5000 users, 60x)
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS=${1:-5000}
SCALE=${2:-60}
PORT=${PORT:-18181}
VENV=benches/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q okta
cargo build -q --release -p butterfly-testkit --bin fake-tenant -p examples --bin butterfly
STORE=$(mktemp -d)
./target/release/fake-tenant okta --users "$USERS" --seed 1 --port "$PORT" --rate-scale "$SCALE" > "$STORE/fake.log" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; rm -rf "$STORE"' EXIT
sleep 2
TOKEN=$(grep OKTA_API_TOKEN "$STORE/fake.log" | cut -d= -f2)
URL="http://127.0.0.1:$PORT"
echo "org: $USERS users, Okta's bucket limits, time ${SCALE}x"
SDK=$(OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true "$VENV/bin/python" benches/sdk/okta_sdk_list.py "$URL" "$TOKEN")
echo "okta-sdk-python: $SDK"
# Let the fake's rate-limit windows recover before the second run.
sleep 3
START=$(date +%s.%N)
OKTA_ORG_URL="$URL" OKTA_API_TOKEN="$TOKEN" OKTA_RATE_SCALE="$SCALE" ./target/release/butterfly --store "$STORE/data" backup okta \
  --kinds okta.user,okta.group,okta.group_member,okta.app,okta.app_user,okta.app_group --json > "$STORE/bf.json"
END=$(date +%s.%N)
BF=$(echo "$END - $START" | bc)
SDK_T=$(echo "$SDK" | awk '{print $2}')
echo "butterfly:       $BF s ($(python3 -c "import json;d=json.load(open('$STORE/bf.json'));print(d['resources'],'resources,',d['status'])"))"
echo "ratio sdk/butterfly: $(echo "scale=2; $SDK_T / $BF" | bc)"
