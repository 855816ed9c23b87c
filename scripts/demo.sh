#!/usr/bin/env bash
# The whole loop without WeChat credentials: starts scrm-sim (WeCom + Official Account on
# loopback) and scrmd, plays sim/scenarios/demo.json (an OA subscribe through a channel QR
# code, a keyword message, a WeCom add_external_contact with the same channel State), then prints
# what scrmd made of it: customers, identities, tags with their evidence, stage, timeline; the
# shipped "welcome" message template rendered for the demo customer; and the expo channel
# (a contact way and an OA QR code made before the play) with its stats and the welcome
# message the new WeCom contact got; last a saved segment with its live count, and why the demo
# customer is in it.
#
# Usage: scripts/demo.sh [--keep]   (--keep leaves the work directory for inspection)
# Installs what is missing (scripts/deps.sh) and builds release first. Everything listens on
# 127.0.0.1 only, on ports the kernel picks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target scrmd scrm-sim >/dev/null
scrmd="$root/build/release/src/app/scrmd"
sim="$root/build/release/sim/scrm-sim"
scenario="$root/sim/scenarios/demo.json"

work=$(mktemp -d "${TMPDIR:-/tmp}/scrmd-demo-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((keep)); then echo "demo: files kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits until FILE has a line with "listening on http://127.0.0.1:PORT"; prints PORT.
wait_for_port() {
  local file=$1 name=$2
  for _ in $(seq 1 200); do
    local port
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$file" 2>/dev/null | head -1 |
      sed 's/.*://' || true)
    if [[ -n "$port" ]]; then
      echo "$port"
      return 0
    fi
    sleep 0.1
  done
  echo "demo: $name did not start:" >&2
  cat "$file" >&2
  return 1
}

# 1. The platforms.
"$sim" serve --world "$scenario" --port 0 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
sim_port=$(wait_for_port "$work/sim.out" scrm-sim)
sim_url="http://127.0.0.1:$sim_port"

# 2. scrmd, with the demo's accounts pointed at the simulator and the example tag rules.
cat >"$work/scrmd.json" <<JSON
{
  "listen": "127.0.0.1:0",
  "data_dir": "$work/data",
  "log": {"level": "warn"},
  "tag_rules_file": "$root/config/tag_rules.example.json",
  "templates_dir": "$root/templates",
  "accounts": [
    {"id": "acme", "platform": "wecom", "corp_id": "wwcafe0123456789", "token": "QDG6eK",
     "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "api_base": "$sim_url"},
    {"id": "shop", "platform": "oa", "app_id": "wx5823bf96d3bd56c7", "token": "QDG6eK",
     "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "encrypt_mode": "safe",
     "api_base": "$sim_url"}
  ]
}
JSON
cat >"$work/secrets.json" <<JSON
{"accounts": {"acme": {"secret": "demo-corp-secret"}, "shop": {"app_secret": "demo-app-secret"}}}
JSON
chmod 600 "$work/secrets.json"
flags=(--config "$work/scrmd.json" --secrets "$work/secrets.json")
"$scrmd" migrate "${flags[@]}" >/dev/null
key=$("$scrmd" keys create "${flags[@]}" --role admin --name demo | tail -1)
"$scrmd" serve "${flags[@]}" >"$work/scrmd.out" 2>"$work/scrmd.err" &
pids+=($!)
scrmd_port=$(wait_for_port "$work/scrmd.err" scrmd 2>/dev/null ||
  wait_for_port "$work/scrmd.out" scrmd)
scrmd_url="http://127.0.0.1:$scrmd_port"
echo "demo: scrm-sim on $sim_url, scrmd on $scrmd_url" >&2

# 2b. A channel (渠道活码) for the expo, on both accounts, with the state the demo's callbacks
# carry: a WeCom 联系我 contact way that welcomes whoever it adds, and an OA QR code; both tag
# their arrivals (docs/campaigns.md "Channels and welcome messages").
SCRMD_URL="$scrmd_url" SCRMD_KEY="$key" python3 - <<'PY'
import json, os, urllib.request

base, key = os.environ["SCRMD_URL"], os.environ["SCRMD_KEY"]

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)

hello = post("/api/v1/templates", {"name": "expo_welcome", "channel": "wecom_message", "content": {
    "text": {"content": "{{#customer.name}}{{customer.name}}，{{/customer.name}}您好！"
                        "感谢您在展会添加{{#owner.userid}}顾问 {{owner.userid}}{{/owner.userid}}，"
                        "有任何问题都可以在这里问我。"}}})
tags = [{"group": "渠道", "name": "展会2026"}]
for body in ({"name": "展会 2026 联系我", "account_id": "acme", "state": "channel_expo2026",
              "welcome_template_id": hello["id"], "default_tags": tags,
              "members": ["zhangsan"]},
             {"name": "展会 2026 公众号码", "account_id": "shop", "state": "channel_expo2026",
              "default_tags": tags}):
    c = post("/api/v1/channels", body)
    print(f"channel {c['id']} {c['platform']}/{c['account_id']} state={c['state']}  "
          f"code: {c['qr_image']}")
PY

# 3. The platform sends its callbacks (and re-delivers any scrmd does not acknowledge).
"$sim" play --scenario "$scenario" --target "$scrmd_url" --sim "$sim_url" >"$work/play.out"
tail -1 "$work/play.out" >&2

# 4. What scrmd made of it, once the ingest worker has caught up.
SCRMD_URL="$scrmd_url" SCRMD_KEY="$key" SIM_URL="$sim_url" python3 - <<'PY'
import json, os, sys, time, urllib.request

base, key = os.environ["SCRMD_URL"], os.environ["SCRMD_KEY"]

def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)

# Interactions stored (the inbox) and customers made (the worker) — wait for the worker.
deadline = time.time() + 30
while True:
    stored = get("/api/v1/interactions?limit=1000")["items"]
    customers = get("/api/v1/customers?limit=100")["items"]
    timelines = sum(len(get(f"/api/v1/customers/{c['id']}/timeline")["items"]) for c in customers)
    if (customers and timelines >= len([i for i in stored if i.get("kind") != "wecom.tag.change"])) \
            or time.time() > deadline:
        break
    time.sleep(0.3)

print(f"\nscrmd stored {len(stored)} interactions and made {len(customers)} customer(s):\n")
for c in customers:
    v = get(f"/api/v1/customers/{c['id']}")
    print(f"customer {v['id']}  stage={v['stage']} ({v.get('stage_reason', '')})  "
          f"owner={v.get('owner_userid') or '-'}")
    for i in v["identities"]:
        print(f"  identity  {i['platform']}/{i['account_id'] or '-'} {i['kind']}={i['value']}")
    for t in v["tags"]:
        ev = t.get("evidence") or {}
        why = f"rule {ev.get('rule_id')} v{ev.get('rule_version')}, interaction {ev.get('interaction_id')}" \
            if ev.get("rule_id") not in (None, "0", 0) else t.get("source", "")
        print(f"  tag       {t['group']}/{t['name']}  score={t['score']:.2f} "
              f"held={t['held']}  ← {why}")
    for f in v.get("followers", []):
        print(f"  follower  {f.get('account_id')} {f.get('userid') or '(subscription)'} {f.get('state')}{' (owner)' if f.get('is_owner') else ''}")
    for e in get(f"/api/v1/customers/{c['id']}/timeline")["items"]:
        print(f"  timeline  {e['kind']:<24} {e.get('summary', '')}")
    print()

# The words of a campaign: the shipped "welcome" template (templates/welcome.json) rendered for
# the demo customer, placeholders shown with their sample values (docs/templates.md).
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)

welcome = {t["name"]: t for t in get("/api/v1/templates")["templates"]}.get("welcome")
if customers and welcome:
    p = post(f"/api/v1/templates/{welcome['id']}/preview", {"customer_id": customers[0]["id"]})
    print(f"template {welcome['name']} v{p['version']} ({p['channel']}) "
          f"for customer {p['customer_id']}:")
    text = p["content"].get("text", {}).get("content", "")
    print("  " + text.replace("\n", "\n  "))
    for a in p["content"].get("attachments", []):
        print(f"  attachment {a['msgtype']}: {json.dumps(a[a['msgtype']], ensure_ascii=False)}")
    print(f"  samples: {json.dumps(p['samples'], ensure_ascii=False)}")

# The channels: who came through them, and the welcome message the new WeCom contact got (as
# the simulated platform received it: send_welcome_msg, within the WelcomeCode's 20 s).
print()
sent, channels = [], []
deadline = time.time() + 30
while time.time() < deadline:
    with urllib.request.urlopen(os.environ["SIM_URL"] + "/sim/requests", timeout=10) as r:
        records = json.load(r)
    records = records if isinstance(records, list) else records.get("requests", [])
    sent = [x for x in records if x["api"] == "externalcontact/send_welcome_msg"]
    channels = [(c, get(f"/api/v1/channels/{c['id']}/stats"))
                for c in get("/api/v1/channels")["channels"]]
    # The send, then the outbox runner's record of it (what the stats read).
    if sent and sum(s["welcomes_sent"] + s["welcomes_failed"] for _, s in channels) >= len(sent):
        break
    time.sleep(0.3)
for c, s in channels:
    print(f"channel {c['id']} {c['name']} ({c['platform']}): adds={s['adds']} "
          f"deletes={s['deletes']} net={s['net']} welcomes_sent={s['welcomes_sent']}")
for x in sent:
    body = json.loads(x["body"])
    print(f"welcome message (errcode {x['errcode']}): {body.get('text', {}).get('content', '')}")

# The audience of a campaign: a saved segment (docs/segments.md) of the customers interested in
# product A who came through the expo channel, its live count and first page from the bitmap
# index, and why the demo customer is in it.
print()
segment = post("/api/v1/segments", {
    "name": "demo-expo-product-a",
    "description": "came through the expo channel and asked about product A",
    "query": 'tag:"兴趣/产品A" and channel:"channel_expo2026" and last_active < 7d'})
page = get(f"/api/v1/segments/{segment['id']}/customers?limit=20")
print(f"segment {segment['id']} {segment['name']}: {segment['query']}")
print(f"  count={page['count']} (evaluated in {page['eval_ms']} ms): "
      + ", ".join(f"customer {c['id']}" for c in page["items"]))
if customers:
    why = get(f"/api/v1/segments/{segment['id']}/explain?customer={customers[0]['id']}")
    for clause in why["clauses"]:
        print(f"  {'meets ' if clause['met'] else 'misses'} {clause['clause']}")
PY
