#!/usr/bin/env bash
# Races butterfly against the official Microsoft Graph Python SDK (msgraph-sdk) on the same fake
# Entra tenant and limits. Sets up its own virtualenv (benches/.venv), builds the release
# binaries, starts the fake, runs both one after the other, prints both times, the ratio and
# both clients' object counts (a mismatch is flagged).
#
#   bash benches/sdk/compare_entra.sh [users] [rate-scale]     (defaults: 5000 users, 1x)
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS=${1:-5000}
SCALE=${2:-1}
PORT=${PORT:-18182}
VENV=benches/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q msgraph-sdk azure-identity
cargo build -q --release -p butterfly-testkit --bin fake-tenant -p examples --bin butterfly
STORE=$(mktemp -d)
./target/release/fake-tenant entra --users "$USERS" --seed 1 --port "$PORT" --rate-scale "$SCALE" > "$STORE/fake.log" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; rm -rf "$STORE"' EXIT
# The fake prints its settings once the tenant is generated and the port is bound.
for _ in $(seq 1 120); do
  grep -q ENTRA_CLIENT_SECRET "$STORE/fake.log" 2>/dev/null && break
  kill -0 $FAKE 2>/dev/null || { cat "$STORE/fake.log"; echo "fake-tenant entra exited" >&2; exit 1; }
  sleep 0.5
done
setting() { grep -o "$1=[^ ]*" "$STORE/fake.log" | head -1 | cut -d= -f2-; }
TENANT=$(setting ENTRA_TENANT_ID)
CLIENT=$(setting ENTRA_CLIENT_ID)
SECRET=$(setting ENTRA_CLIENT_SECRET)
BASE="http://127.0.0.1:$PORT"
GRAPH=$(setting ENTRA_GRAPH_URL); GRAPH=${GRAPH:-$BASE}
AUTHORITY=$(setting ENTRA_AUTHORITY_URL); AUTHORITY=${AUTHORITY:-$BASE}
echo "tenant: $USERS users, Graph's resource-unit budgets, time ${SCALE}x"
echo "msgraph-sdk $("$VENV/bin/pip" show msgraph-sdk | awk '/^Version/{print $2}')," \
  "kiota-http $("$VENV/bin/pip" show microsoft-kiota-http | awk '/^Version/{print $2}')," \
  "$("$VENV/bin/python" --version)"
SDK=$("$VENV/bin/python" benches/sdk/graph_sdk_list.py "${GRAPH%/}/v1.0" "${AUTHORITY%/}/$TENANT/oauth2/v2.0/token" "$CLIENT" "$SECRET")
echo "msgraph-sdk-python: $SDK"
# Let the fake's throttling windows (10 s of Graph time) recover before the second run.
sleep "$(echo "scale=2; 10 / $SCALE + 1" | bc)"
KINDS=entra.user,entra.group,entra.group_member,entra.application,entra.service_principal,entra.app_role_assignment
START=$(date +%s.%N)
ENTRA_TENANT_ID="$TENANT" ENTRA_CLIENT_ID="$CLIENT" ENTRA_CLIENT_SECRET="$SECRET" \
  ENTRA_GRAPH_URL="$GRAPH" ENTRA_AUTHORITY_URL="$AUTHORITY" ENTRA_RATE_SCALE="$SCALE" \
  ./target/release/butterfly --store "$STORE/data" backup entra --kinds "$KINDS" --json > "$STORE/bf.json"
END=$(date +%s.%N)
BF=$(echo "$END - $START" | bc)
SDK_T=$(echo "$SDK" | awk '{print $2}')
SDK_LINE="$SDK" BF_JSON="$STORE/bf.json" BF_T="$BF" python3 - <<'EOF'
import json, os
sdk = dict(kv.split("=", 1) for kv in os.environ["SDK_LINE"].split()[2:])
bf = json.load(open(os.environ["BF_JSON"]))
kinds = bf.get("kinds", {})
pairs = [("users", "entra.user"), ("groups", "entra.group"), ("members", "entra.group_member"),
         ("apps", "entra.application"), ("sps", "entra.service_principal"),
         ("assignments", "entra.app_role_assignment")]
print(f"butterfly:          {float(os.environ['BF_T']):.2f} s ({bf['resources']} resources, {bf['status']})")
print(f"{'objects':<12} {'sdk':>8} {'butterfly':>10}")
mismatch = False
for s, k in pairs:
    a, b = int(sdk[s]), kinds.get(k, {}).get("count", 0)
    flag = "" if a == b else "   <-- MISMATCH"
    mismatch |= a != b
    print(f"{s:<12} {a:>8} {b:>10}{flag}")
print("counts: " + ("MISMATCH (see above)" if mismatch else "identical"))
EOF
echo "ratio sdk/butterfly: $(echo "scale=2; $SDK_T / $BF" | bc)"
