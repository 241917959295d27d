"""The simulator driven by the PyPI `jira` package (pycontribs), the way its users call it."""

import json
import urllib.request

import pytest
from jira import JIRA, JIRAError


def ground_truth(sim) -> list:
    with urllib.request.urlopen(f"{sim.base_url}/_sim/truth?as=alice@example.com") as r:
        return json.load(r)["issues"]


def connect(sim, email="alice@example.com") -> JIRA:
    user = sim.user(email)
    return JIRA(server=sim.base_url, basic_auth=(user["email"], user["token"]), options={"check_update": False})


def test_myself_and_projects(cloud):
    jira = connect(cloud)
    me = jira.myself()
    assert me["emailAddress"] == "alice@example.com"
    assert me["accountType"] == "atlassian"
    keys = sorted(p.key for p in jira.projects())
    assert keys == sorted(cloud.info["projects"])


def test_enhanced_search_returns_exactly_the_ground_truth(cloud):
    jira = connect(cloud)
    truth = ground_truth(cloud)
    issues = jira.enhanced_search_issues("project in (PLAT, SRE, WEB, MOB, DON) ORDER BY key ASC", maxResults=False, expand="changelog")
    assert len(issues) == len(truth)
    assert sorted(i.id for i in issues) == sorted(t["id"] for t in truth)
    by_id = {t["id"]: t for t in truth}
    for issue in issues:
        t = by_id[issue.id]
        assert issue.key == t["key"]
        assert issue.fields.summary == t["fields"]["summary"]
        assert issue.fields.status.name == t["fields"]["status"]["name"]
        # The embedded changelog: newest 40, with the true total.
        assert issue.changelog.total == len(t["changelog"])
        assert len(issue.changelog.histories) == min(40, len(t["changelog"]))
    assert any(i.changelog.total > 40 for i in issues), "some issues exceed the embed limit"


def test_a_wrong_token_fails_on_myself(cloud):
    jira = JIRA(server=cloud.base_url, basic_auth=("alice@example.com", "wrong"), options={"check_update": False})
    with pytest.raises(JIRAError) as failure:
        jira.myself()
    assert failure.value.status_code == 401
    assert failure.value.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


def test_data_center_search_with_a_personal_access_token(datacenter):
    user = datacenter.user("alice@example.com")
    jira = JIRA(server=datacenter.base_url, token_auth=user["token"], options={"check_update": False})
    assert jira.myself()["name"] == "alice"
    issues = jira.search_issues("project = PLAT", maxResults=False)
    truth = [t for t in ground_truth(datacenter) if t["project"] == "PLAT"]
    assert sorted(i.id for i in issues) == sorted(t["id"] for t in truth)
