#!/usr/bin/env bash
# The main job, for now: build and start the Jira simulator on 127.0.0.1, show what it serves
# (the startup line, a user's view, projects, a search page), then stop it.
# Issue #3 replaces this with `sei-jira demo` (validate + sync + summary).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet -p jira-sim
out=$(mktemp)
./target/debug/jira-sim --addr 127.0.0.1:0 --projects 5 --issues "${ISSUES:-5000}" >"$out" &
sim=$!
trap 'kill $sim 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done

python3 - "$out" <<'PY'
import base64, json, sys, urllib.request

info = json.loads(open(sys.argv[1]).readline())
base = info["base_url"]
print(f"Jira simulator ({info['mode']}) at {base}: {info['issues']} issues in {', '.join(info['projects'])}")
print(f"custom fields: {info['custom_fields']}")
print("\ncredential holders (email / kind / time zone / what they lack):")
for u in info["users"]:
    lacks = u["denied_permissions"] + [f"browse {p}" for p in u["hidden_projects"]]
    print(f"  {u['email']:<40} {u['kind']:<16} {u['time_zone']:<18} {', '.join(lacks) or '-'}")

alice = next(u for u in info["users"] if u["email"] == "alice@example.com")
auth = "Basic " + base64.b64encode(f"alice@example.com:{alice['token']}".encode()).decode()

def call(path, body=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": auth, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)

me = call("/rest/api/3/myself")
print(f"\nGET /rest/api/3/myself -> {me['displayName']} ({me['accountType']}, {me['timeZone']})")
projects = call("/rest/api/3/project/search")
print(f"GET /rest/api/3/project/search -> {projects['total']} projects: {', '.join(p['key'] + ' ' + p['name'] for p in projects['values'])}")
page = call("/rest/api/3/search/jql", {"jql": "project = PLAT AND updated >= -30d ORDER BY updated DESC",
                                       "fields": ["summary", "status", "assignee"], "expand": "changelog", "maxResults": 5})
print("POST /rest/api/3/search/jql (project = PLAT AND updated >= -30d) -> first page:")
for i in page["issues"]:
    f = i["fields"]
    who = (f["assignee"] or {}).get("displayName", "unassigned")
    print(f"  {i['key']:<10} {f['status']['name']:<12} {who:<16} {len(i['changelog']['histories'])}/{i['changelog']['total']} histories  {f['summary']}")
print(f"  isLast={page['isLast']}, nextPageToken={'yes' if page.get('nextPageToken') else 'no'}")
count = call("/rest/api/3/search/approximate-count", {"jql": "created >= -730d"})
print(f"POST /rest/api/3/search/approximate-count (created >= -730d) -> {count['count']}")
PY
