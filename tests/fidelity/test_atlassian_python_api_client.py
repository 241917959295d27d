"""A second off-the-shelf client, `atlassian-python-api`, runs a full export against the simulator
the way connectors do (every field; rendered fields, transitions and the changelog expanded; then
each truncated changelog and comment list paged through) and must get exactly the ground truth."""

import datetime
import json
import re
import urllib.request

from atlassian import Jira

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")


def ground_truth(sim) -> list:
    with urllib.request.urlopen(f"{sim.base_url}/_sim/truth?as=alice@example.com") as r:
        return json.load(r)["issues"]


def instants(value):
    """The value with every Jira timestamp as a UTC instant: the ground truth is rendered in UTC,
    the client sees its user's time zone."""
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    if isinstance(value, str) and JIRA_TIME.match(value):
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(datetime.timezone.utc).isoformat()
    return value


def by_id(items):
    return sorted((instants(i) for i in items), key=lambda i: int(i["id"]))


def full_export(jira: Jira) -> dict:
    """Every issue with its complete changelog and comments, through the client's own calls."""
    issues = jira.enhanced_jql_get_list_of_tickets(
        "project in (PLAT, SRE, WEB, MOB, DON) ORDER BY key ASC",
        fields="*all",
        expand="renderedFields,transitions,changelog",
    )
    export = {}
    for issue in issues:
        histories = issue["changelog"]["histories"]
        if issue["changelog"]["total"] > len(histories):
            histories, start = [], 0
            while True:
                page = jira.get_issue_changelog(issue["key"], start=start, limit=100)
                histories += page["values"]
                start += len(page["values"])
                if page["isLast"] or not page["values"]:
                    break
        comment = issue["fields"]["comment"]
        comments = comment["comments"]
        if comment["total"] > len(comments):
            comments = []
            while len(comments) < comment["total"]:
                page = jira.get(f"rest/api/3/issue/{issue['id']}/comment", params={"startAt": len(comments), "maxResults": 100})
                if not page["comments"]:
                    break
                comments += page["comments"]
        export[issue["id"]] = (issue, histories, comments)
    return export


def test_a_full_export_equals_the_ground_truth(cloud):
    user = cloud.user("alice@example.com")
    jira = Jira(url=cloud.base_url, username=user["email"], password=user["token"], cloud=True)
    export = full_export(jira)
    truth = ground_truth(cloud)
    assert sorted(export) == sorted(t["id"] for t in truth)
    truncated = paged_comments = 0
    for t in truth:
        issue, histories, comments = export[t["id"]]
        assert issue["key"] == t["key"]
        # Every field, except the embedded comment page (compared whole below).
        fields = {k: v for k, v in issue["fields"].items() if k != "comment"}
        expected = {k: v for k, v in t["fields"].items() if k != "comment"}
        assert instants(fields) == instants(expected), t["key"]
        assert by_id(histories) == by_id(t["changelog"]), t["key"]
        assert by_id(comments) == by_id(t["comments"]), t["key"]
        # What the expands added is there for every issue.
        assert issue["transitions"] and all(tr["to"]["id"] != t["fields"]["status"]["id"] for tr in issue["transitions"])
        assert set(issue["renderedFields"]) == set(issue["fields"])
        truncated += len(t["changelog"]) > len(issue["changelog"]["histories"])
        paged_comments += len(t["comments"]) > len(issue["fields"]["comment"]["comments"])
    assert truncated > 0 and paged_comments > 0, "some changelogs and comment lists must need paging"
