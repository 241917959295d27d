"""The deployment rehearsal: template.yaml deployed on moto server, the real function binaries
run under a Lambda runtime emulator with exactly the environment the deployment gives them, and
the platform's flow driven through them. See docs/rehearsal.md.

    .venv/bin/python infra/rehearsal/rehearse.py [--template template.yaml] [--keep]
"""

import argparse
import base64
import io
import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import os

# Nothing here may reach AWS: the translator's boto session and every client get a region and
# dummy credentials from here, and the SDKs never probe instance metadata.
os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                   "AWS_EC2_METADATA_DISABLED": "true"})
for variable in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
    os.environ.pop(variable, None)

import boto3  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import insights  # noqa: E402
from deploy import Failure, deploy, translate  # noqa: E402
from flow import Platform, routes_of  # noqa: E402
from permissions import compare, statements  # noqa: E402
from runtime import Emulator, RecordingProxy, free_port, wait_for_port  # noqa: E402

STACK = "sei-jira-rehearsal"
CODE_BUCKET = "sei-jira-rehearsal-code"
ISSUER = "https://issuer.rehearsal.example"
# What an operator passes at deploy time. The simulator listens on loopback, so the rehearsal's
# deployment allows private Jira addresses (as one reaching a Data Center site in a VPC would).
# The one managed policy a function's role may have: SAM's, for the Lambda service's log writes.
LOGS_ONLY_POLICY = ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# SAM adds it to the role of a function with a VpcConfig, even one that only a parameter turns on
# (`!If [InVpc, …]`): Lambda's network interfaces in the VPC, nothing of our services.
VPC_ACCESS_POLICY = ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
# The functions log at `trace`, the most a deployer can choose: no secret may reach the logs even
# then (see `secrets_in_logs`).
PARAMETERS = {"JwtIssuer": ISSUER, "JwtAudience": "sei-platform", "JiraPrivateCidrs": "127.0.0.0/8",
              "LogLevel": "trace", "AlarmEmail": "operators@example.com"}
# A personal access token the platform asks to validate against a Data Center site.
DATA_CENTER_PAT = "NjE0MzQ4NzQ1ODk2OrehearsalPATnotAnyonesZm9vYmFy"


class Aws:
    """boto3 clients for moto on loopback, never AWS."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")


started_at = time.time()


def step(text):
    print(f"\n==> [{time.time() - started_at:5.1f} s] {text}", flush=True)


def start(command, log, **kw):
    return subprocess.Popen(command, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, **kw)


def main():
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=str(repo / "template.yaml"))
    parser.add_argument("--keep", action="store_true", help="keep the logs' directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sei-jira-rehearsal-"))
    # A cancelled run still stops what it started (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    processes, emulator = [], None
    try:
        step(f"translate {args.template} with the SAM translator")
        template = translate(Path(args.template).read_text(), CODE_BUCKET)
        kinds = sorted({r["Type"] for r in template["Resources"].values()})
        print(f"    {len(template['Resources'])} resources of {len(kinds)} types")

        step("moto server and the Jira simulator on 127.0.0.1")
        moto_port = free_port()
        # One request at a time, as the tests run it: the functions write concurrently, and
        # moto's threads race where DynamoDB does not (the script says how).
        moto = start([str(repo / ".venv/bin/python"), str(repo / "infra/scripts/serial_moto_server.py"),
                      "-H", "127.0.0.1", "-p", str(moto_port)], work / "moto.log")
        processes.append(moto)
        sim = subprocess.Popen([str(repo / "target/debug/jira-sim"), "--addr", "127.0.0.1:0",
                                "--projects", "3", "--issues", "240", "--seed", "15"],
                               stdout=subprocess.PIPE, stderr=open(work / "jira-sim.log", "wb"))
        processes.append(sim)
        site = json.loads(sim.stdout.readline())
        wait_for_port(moto_port, "moto_server", moto)
        aws = Aws(f"http://127.0.0.1:{moto_port}")

        step("deploy the network stack (infra/network.yaml) on moto")
        network = deploy_network(aws, (repo / "infra/network.yaml").read_text())
        print(f"    subnets {network['SubnetIds']}, security group {network['SecurityGroupId']}, "
              f"egress address {network['EgressIp']}")
        parameters = dict(PARAMETERS, SubnetIds=network["SubnetIds"],
                          SecurityGroupIds=network["SecurityGroupId"])

        step(f"deploy stack {STACK} on moto, its Jira-facing functions in the network's subnets")
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=CODE_BUCKET)
        functions = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
        for name in functions:
            # The code runs under the emulator below; moto only needs an archive to point at.
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w") as z:
                z.writestr("bootstrap", "#!/bin/sh\necho runs under the rehearsal's emulator\n")
            s3.put_object(Bucket=CODE_BUCKET, Key=f"{name}.zip", Body=archive.getvalue())
        template["Outputs"]["SchedulerRoleArn"] = {"Value": {"Fn::GetAtt": ["SchedulerRole", "Arn"]}}
        physical, outputs = deploy(template, aws, STACK, parameters)
        lam = aws.client("lambda")
        deployed = {}
        for logical, resource in functions.items():
            conf = lam.get_function_configuration(FunctionName=physical[logical])
            # moto keeps a Number parameter's value as a number; CloudFormation passes text.
            env = {k: str(v) if isinstance(v, (int, float)) else v
                   for k, v in conf.get("Environment", {}).get("Variables", {}).items()}
            unresolved = {k: v for k, v in env.items() if not isinstance(v, str) or "Fn::" in v or "{'Ref'" in v}
            if unresolved:
                raise Failure(f"{logical}: environment not resolved by the deployment: {unresolved}")
            in_vpc = sorted(conf.get("VpcConfig", {}).get("SubnetIds", []))
            if in_vpc != sorted(network["SubnetIds"].split(",") if logical in IN_VPC else []):
                raise Failure(f"{logical}: in subnets {in_vpc or 'none'}; the Jira-facing functions "
                              f"({', '.join(sorted(IN_VPC))}) belong in the network's, the others in none")
            # What Lambda's advanced logging controls tell the runtime (moto does not keep them).
            env.update(logging_env(template, resource, PARAMETERS))
            deployed[logical] = {"name": conf["FunctionName"], "arn": conf["FunctionArn"],
                                 "binary": resource["Metadata"]["BuildProperties"]["Binary"],
                                 "env": env, "memory": conf["MemorySize"],
                                 "role": conf["Role"].split("/")[-1]}
            print(f"    {logical}: {conf['FunctionName']} ({len(env)} variables)")

        step(f"deploy stack {STACK}-plain on moto without the network parameters: no function in a VPC")
        plain, _ = deploy(template, aws, f"{STACK}-plain", PARAMETERS)
        in_a_vpc = [logical for logical in functions
                    if lam.get_function_configuration(FunctionName=plain[logical]).get("VpcConfig", {}).get("SubnetIds")]
        if in_a_vpc:
            raise Failure(f"without SubnetIds, still in a VPC: {', '.join(in_a_vpc)}")
        print(f"    {len(functions)} functions, none in a VPC")
        # Gone again, alarms (created beside moto's CloudFormation) included: the checks below
        # are of the first stack.
        plain_alarms = [plain[n] for n, r in template["Resources"].items()
                        if r["Type"] == "AWS::CloudWatch::Alarm" and n in plain]
        aws.client("cloudwatch").delete_alarms(AlarmNames=plain_alarms)
        aws.client("cloudformation").delete_stack(StackName=f"{STACK}-plain")

        step("the function binaries under cargo lambda watch (the Lambda runtime API)")
        emulator = Emulator(str(repo / ".venv-sam/bin/cargo-lambda"), repo, work)
        proxies = {}
        for logical, f in deployed.items():
            proxies[logical] = RecordingProxy(moto_port)
            emulator.start(repo / "target/debug" / f["binary"], f["name"], f["env"], f["memory"],
                           proxies[logical])
        time.sleep(1.0)  # a function that fails its wiring stops at once
        for f in deployed.values():
            emulator.started(f["binary"], seconds=0)
        print(f"    {len(deployed)} functions waiting for invocations")

        step("permissions: each function's policies against the actions its code needs")
        needs = json.loads(subprocess.run([str(repo / "target/debug/aws-actions")], check=True,
                                          capture_output=True).stdout)
        adapters = {a for actions in needs["adapters"].values() for a in actions}
        iam = aws.client("iam")
        wrong = []
        for logical, f in deployed.items():
            # moto's CloudFormation keeps no managed policy on a role: read them off the template.
            role = template["Resources"][functions[logical]["Properties"]["Role"]["Fn::GetAtt"][0]]
            allowed = [LOGS_ONLY_POLICY] + (
                [VPC_ACCESS_POLICY] if "VpcConfig" in functions[logical]["Properties"] else [])
            for arn in role["Properties"].get("ManagedPolicyArns", []):
                if not any(json.dumps(arn).endswith(a + '"') for a in allowed):
                    wrong.append(f"{logical}: its role has the managed policy {arn}, beyond its needs")
            declared = needs["functions"][f["binary"]]
            wrong += [f"{f['binary']} declares {a}, which no adapter makes" for a in declared if a not in adapters]
            missing, needless = compare(declared, statements(iam, f["role"]), f["env"], outputs)
            wrong += [f"{logical}: its policies do not allow {a} on what it touches" for a in missing]
            wrong += [f"{logical}: its policies allow {a}, which its code never needs" for a in needless]
            print(f"    {logical}: needs {len(declared)} actions: "
                  + (f"{len(missing)} not allowed" if missing else "all allowed")
                  + (f", {len(needless)} more allowed" if needless else ", nothing more"))
        if wrong:
            raise Failure("permissions do not match the code:\n  " + "\n  ".join(wrong))

        run_flow(aws, template, deployed, emulator, site, outputs, work, needs["events"])

        step("the AWS actions each function took, against those it declares")
        for logical, f in deployed.items():
            taken = proxies[logical].actions
            undeclared = taken - set(needs["functions"][f["binary"]])
            if undeclared:
                wrong.append(f"{logical} took {sorted(undeclared)}, which it does not declare")
            print(f"    {logical}: {', '.join(sorted(taken)) or 'none'}")
        if wrong:
            raise Failure("\n  ".join(wrong))

        step("every answer against docs/openapi.yaml")
        checked = subprocess.run([str(repo / "target/debug/api-contract"), str(work / "exchanges.json")])
        if checked.returncode != 0:
            raise Failure("answers that break the contract (above)")
        step(f"rehearsal passed in {time.time() - started_at:.1f} s")
    except Failure as failure:
        print(f"\nrehearsal FAILED: {failure}\n(logs in {work})", file=sys.stderr)
        args.keep = True
        sys.exit(1)
    except BaseException:
        print(f"(logs in {work})", file=sys.stderr)
        args.keep = True
        raise
    finally:
        if emulator:
            emulator.stop()
        for p in processes:
            p.kill()
        if not args.keep:
            import shutil
            shutil.rmtree(work, ignore_errors=True)


def logging_env(template, resource, parameters):
    """The variables Lambda sets from a function's LoggingConfig: its format and its application
    log level (resolved through the template's mapping from the LogLevel parameter)."""
    config = resource["Properties"].get("LoggingConfig", {})
    level = config.get("ApplicationLogLevel")
    if isinstance(level, dict) and "Fn::FindInMap" in level:
        mapping, key, attribute = level["Fn::FindInMap"]
        if isinstance(key, dict):
            name = key["Ref"]
            key = parameters.get(name, template["Parameters"][name].get("Default"))
        level = template["Mappings"][mapping][key][attribute]
    env = {"AWS_LAMBDA_LOG_FORMAT": config["LogFormat"]} if "LogFormat" in config else {}
    if level:
        env["AWS_LAMBDA_LOG_LEVEL"] = level
    return env


def jwt_for(issuer):
    """A JWT as the platform sends it (its signature is never checked here: API Gateway's
    authorizer has checked it before any function sees the request)."""
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    header = part({"alg": "RS256", "kid": "rehearsal", "typ": "JWT"})
    claims = part({"iss": issuer, "sub": "user-1", "aud": "sei-platform", "exp": 4102444800})
    return f"{header}.{claims}.{base64.urlsafe_b64encode(os.urandom(64)).rstrip(b'=').decode()}"


def sim_control(base_url, controls=None):
    """The simulator's controls (`/_sim/control`), replaced by `controls` when given."""
    request = urllib.request.Request(f"{base_url}/_sim/control", method="PUT" if controls else "GET",
                                     data=json.dumps(controls).encode() if controls else None,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"{}")


def secrets_in_logs(work, secrets):
    """Every log line of the functions and the emulator holding one of `secrets` (name -> value)."""
    found = []
    for log in sorted(work.glob("*.log")):
        if log.name in ("moto.log", "jira-sim.log"):
            continue  # the emulators of AWS and Jira, not our code
        for n, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            found += [f"{log.name}:{n}: the {name}" for name, value in secrets.items() if value in line]
    return found


# What the flow makes each function measure (docs/operations.md, shared/lambda/src/metrics.rs).
METRICS_OF_THE_FLOW = [
    ("sync-project", "SyncRuns"), ("sync-project", "IssuesWritten"), ("sync-project", "JiraRequests"),
    ("sync-project", "SyncDurationSeconds"), ("sync-project", "SyncLagSeconds"),
    ("hygiene-events", "IssuesEvaluated"),
    ("hygiene-events", "IntegrationsStale"),
] + [(f, m) for f in ("validate-credentials", "score-hygiene", "dora-metrics", "monitoring-query")
     for m in ("Requests", "LatencyMs")]


def metrics_in_logs(work, binaries):
    """The (function, metric) pairs the functions' EMF lines publish, and what in those lines
    CloudWatch would not read: a line of another namespace, a metric or a dimension without its
    value, a `Function` that is not the binary that printed it (each binary's log is `<binary>.log`)."""
    emitted, problems = {}, []
    for binary in binaries:
        for n, line in enumerate((work / f"{binary}.log").read_text(errors="replace").splitlines(), 1):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if not isinstance(doc, dict) or "_aws" not in doc:
                continue
            where = f"{binary}.log:{n}"
            if doc.get("Function") != binary:
                problems.append(f"{where}: Function {doc.get('Function')!r}, printed by {binary}")
            for directive in doc["_aws"].get("CloudWatchMetrics", []):
                if directive.get("Namespace") != "SeiJira":
                    problems.append(f"{where}: namespace {directive.get('Namespace')!r}")
                for dimension in {d for dims in directive.get("Dimensions", []) for d in dims}:
                    if not isinstance(doc.get(dimension), str):
                        problems.append(f"{where}: dimension {dimension} without a value")
                for metric in directive.get("Metrics", []):
                    if not isinstance(doc.get(metric["Name"]), (int, float)):
                        problems.append(f"{where}: metric {metric['Name']} without a number")
                    published = emitted.setdefault((binary, metric["Name"]), set())
                    published.update(frozenset(dims) for dims in directive.get("Dimensions", []))
    return emitted, problems


def unpublished(watched, emitted):
    """Of `watched` ((where, namespace, metric name, {dimension: value})), those of our namespace
    that no function publishes: its name, its dimensions by name, with the same `Function`. (The
    flow makes no run fail, so the other dimensions' values are not compared.)"""
    return [f"{where}: {name} by {sorted(dims)} of {dims.get('Function')}"
            for where, namespace, name, dims in watched
            if namespace == "SeiJira"
            and frozenset(dims) not in emitted.get((dims.get("Function"), name), set())]


def watched_by_alarms(template):
    """What the template's alarms watch, as `unpublished` takes it."""
    watched = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        for metric in [props] + [q["MetricStat"]["Metric"] for q in props.get("Metrics", [])
                                 if "MetricStat" in q]:
            if "MetricName" in metric:
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                watched.append((name, metric.get("Namespace"), metric["MetricName"], dims))
    return watched


def watched_by_dashboards(cloudwatch):
    """What the deployed dashboards' widgets draw: each metric array is
    [namespace, name, dimension, value, ..., {options}?]."""
    watched = []
    for listed in cloudwatch.list_dashboards()["DashboardEntries"]:
        name = listed["DashboardName"]
        body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
        for widget in body["widgets"]:
            for metric in widget["properties"].get("metrics", []):
                plain = [m for m in metric if not isinstance(m, dict)]
                dims = dict(zip(plain[2::2], plain[3::2]))
                watched.append((f"{name} \"{widget['properties'].get('title')}\"", plain[0], plain[1], dims))
    return watched


# The functions that talk to Jira, and only they, run in the network's subnets when it is given.
IN_VPC = {"ValidateCredentialsFunction", "SyncProjectFunction"}


def deploy_network(aws, template_text):
    """The network stack's outputs, once moto's CloudFormation has created it."""
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=f"{STACK}-network", TemplateBody=template_text)
    for _ in range(60):
        status = cfn.describe_stacks(StackName=f"{STACK}-network")["Stacks"][0]
        if not status["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.5)
    if status["StackStatus"] != "CREATE_COMPLETE":
        raise Failure(f"network stack: {status['StackStatus']} {status.get('StackStatusReason')}")
    return {o["OutputKey"]: o["OutputValue"] for o in status["Outputs"]}


def routing_problems(aws, platform, consumers):
    """Where the deployed bus rules and `consumers` ((kind of event, consuming function), from
    `sei_jira_core::ports::EVENT_CONSUMERS`) disagree: a kind no rule routes, or routes to another
    function too; an event of the flow delivered elsewhere than to its consumer."""
    wrong = []
    for kind, consumer in consumers:
        routed = sorted(platform.routed(aws, kind))
        if routed != [consumer]:
            wrong.append(f"{kind}: the rules route it to {', '.join(routed) or 'no function'}; "
                         f"{consumer} consumes it")
    expected = dict(consumers)
    for kind, rule, function in platform.deliveries:
        if expected.get(kind) != function:
            wrong.append(f"{kind}: delivered to {function} (rule {rule}), consumed by "
                         f"{expected.get(kind, 'no function: not in EVENT_CONSUMERS')}")
    return wrong


def run_flow(aws, template, deployed, emulator, site, outputs, work, consumers):
    by_logical = {logical: f["binary"] for logical, f in deployed.items()}
    any_env = next(iter(deployed.values()))["env"]
    binaries = {f["name"]: f["binary"] for f in deployed.values()}
    jwt = jwt_for(ISSUER)
    platform = Platform(emulator, by_logical, binaries, routes_of(template), any_env["ACCOUNT_CLAIM"], ISSUER, jwt)
    scheduled_rules = platform.route_rules_to_queues(aws, any_env["EVENT_BUS_NAME"])
    alice = next(u for u in site["users"] if u["email"] == "alice@example.com")
    issues, projects = site["issues"], site["projects"]
    try:
        step("the platform creates an integration (POST /integrations)")
        status, created = platform.api("POST /integrations", body={
            "name": "Rehearsal", "connection": {"deployment": "cloud", "url": site["base_url"],
                                                "email": alice["email"], "token": alice["token"]},
            "scope": {"kind": "all_accessible"}})
        platform.expect(status, 201, "create", created)
        integration = created["id"]
        print(f"    integration {integration}")

        step("its schedule (EventBridge Scheduler) fires its own target input at the sync")
        scheduler = aws.client("scheduler")
        group = any_env["SCHEDULE_GROUP"]
        schedule = scheduler.get_schedule(GroupName=group, Name=f"sync-{integration}")
        target = schedule["Target"]
        sync = deployed["SyncProjectFunction"]
        if target["Arn"] != sync["arn"] or target["RoleArn"] != outputs["SchedulerRoleArn"]:
            raise Failure(f"the schedule targets {target['Arn']} as {target['RoleArn']}, not "
                          f"{sync['arn']} as {outputs['SchedulerRoleArn']}")
        print(f"    {schedule['ScheduleExpression']} -> {sync['name']}")
        answer = emulator.invoke(sync["binary"], json.loads(target["Input"]))
        if answer.get("outcome") not in ("succeeded", "partial"):
            raise Failure(f"the scheduled sync answered {answer}")
        print(f"    sync: {answer['outcome']}, {answer['counts']['issues_new']} issues new")
        platform.pump(aws)

        step("the platform asks for a sync now; the bus routes the continuation")
        status, answer = platform.api("POST /integrations/{integrationId}/sync", [integration])
        platform.expect(status, 202, "sync now", answer)
        if platform.pump(aws) == 0:
            raise Failure("sync now put nothing on the bus that a rule routes")

        step("the daily snapshot rule fires its own input")
        for rule, expression, function, event in scheduled_rules:
            print(f"    {rule} ({expression}) -> {function}")
            platform.delivered(function, emulator.invoke(function, event))
        platform.pump(aws)

        step("monitoring, hygiene, DORA and the report page, against the simulator's truth")
        status, monitoring = platform.api("GET /integrations/{integrationId}/monitoring", [integration], query="range=7d")
        platform.expect(status, 200, "monitoring", monitoring)
        seen = (monitoring["health"]["status"], monitoring["tickets"]["total"], monitoring["projects"]["total"])
        if seen != ("Healthy", issues, len(projects)):
            raise Failure(f"monitoring says {seen}, the site has {issues} issues in {len(projects)} projects")
        print(f"    {seen[0]}: {seen[1]} tickets, {seen[2]} projects, as on the site")
        status, hygiene = platform.api("GET /integrations/{integrationId}/hygiene", [integration])
        platform.expect(status, 200, "hygiene", hygiene)
        status, trend = platform.api("GET /integrations/{integrationId}/hygiene/trend", [integration])
        platform.expect(status, 200, "hygiene trend", trend)
        profile = {"name": "Operations",
                   "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
                   "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "in", "values": ["Change", "Bug"]}]}]},
                   "failure_window_hours": 72}
        status, saved = platform.api("POST /integrations/{integrationId}/dora/profiles", [integration], body=profile)
        platform.expect(status, 201, "DORA profile", saved)
        platform.pump(aws)
        status, dora = platform.api("GET /integrations/{integrationId}/dora", [integration], query=f"profile={saved['id']}")
        platform.expect(status, 200, "DORA", dora)
        status, page = platform.api("GET /integrations/{integrationId}/report", [integration])
        platform.expect(status, 200, "report page", page[:200])
        print(f"    hygiene score {hygiene.get('score')}, trend of {len(trend.get('points', trend) if isinstance(trend, dict) else trend)} "
              f"point(s), DORA profile {saved['id']}, report page of {len(page)} bytes")
        kinds = sorted({d[0] for d in platform.deliveries})
        print(f"    events routed by the bus rules: {', '.join(kinds)}")

        step("the bus rules route each kind of event to its consumer, and to no other function")
        wrong = routing_problems(aws, platform, consumers)
        if wrong:
            raise Failure("event routing:\n  " + "\n  ".join(wrong))
        print("    " + ", ".join(f"{kind} -> {consumer}" for kind, consumer in consumers))

        step("the platform validates a Data Center personal access token")
        status, checked = platform.api("POST /credentials/validate", body={"connection": {
            "deployment": "datacenter", "url": site["base_url"], "token": DATA_CENTER_PAT}})
        platform.expect(status, 200, "validate", checked)
        print(f"    ok: {checked['ok']} ({sum(c['status'] == 'passed' for c in checked['checks'])} checks passed)")

        step("a sync Jira refuses: every request answered 429, Retry-After past the run's time")
        control = sim_control(site["base_url"])
        sim_control(site["base_url"], dict(control, force_429=10_000, force_429_wait_secs=3600))
        answer = emulator.invoke(sync["binary"], json.loads(target["Input"]))
        sim_control(site["base_url"], control)
        if answer.get("outcome") != "partial" or answer["counts"]["throttled"] < 1:
            raise Failure(f"a sync answered 429 throughout answered {answer}")
        print(f"    sync: {answer['outcome']}, {answer['counts']['throttled']} answer(s) 429, "
              f"{answer['counts']['issues_new']} issues new")

        step("a sync whose token is gone from Secrets Manager: a failed run, recorded and logged")
        secrets = aws.client("secretsmanager")
        names = [s["Name"] for s in secrets.list_secrets()["SecretList"] if integration in s["Name"]]
        if len(names) != 1:
            raise Failure(f"the integration's secret: {names}")
        secrets.delete_secret(SecretId=names[0], ForceDeleteWithoutRecovery=True)
        answer = emulator.invoke(sync["binary"], json.loads(target["Input"]))
        if answer.get("outcome") != "failed":
            raise Failure(f"a sync without its token answered {answer}")
        print(f"    sync: failed ({answer.get('error')})")

        step("the runbook's Logs Insights queries (docs/operations.md), on the functions' log lines")
        runbook = Path(__file__).resolve().parents[2] / "docs/operations.md"
        queries = insights.queries_in(runbook.read_text())
        if len(queries) < 5:
            raise Failure(f"{len(queries)} Logs Insights queries in docs/operations.md: the check would prove little")
        log_events = [e for binary in sorted(set(binaries.values()))
                      for e in insights.events((work / f"{binary}.log").read_text(errors="replace").splitlines(), binary)]
        checked = [(heading, *insights.check(query, log_events)) for heading, query in queries]
        wrong = [f"{heading}: {p}" for heading, _, problems in checked for p in problems]
        if wrong:
            raise Failure("Logs Insights queries:\n  " + "\n  ".join(wrong))
        for heading, rows, _ in checked:
            print(f"    {heading}: {len(rows)} row(s)")

        step("no secret in any log line, the functions logging at trace")
        logs = sorted(work.glob("*.log"))
        if not any('"level":"TRACE"' in log.read_text(errors="replace") for log in logs):
            raise Failure("no function logged at trace: the scan below would prove nothing")
        found = secrets_in_logs(work, {"Jira API token": alice["token"],
                                       "personal access token": DATA_CENTER_PAT, "JWT": jwt})
        if found:
            raise Failure("secrets in the logs:\n  " + "\n  ".join(found[:20]))
        print(f"    {len(logs)} logs scanned for the Jira token, the PAT and the JWT: none")

        step("metrics: each function's embedded-metric-format lines, as CloudWatch reads them")
        emitted, problems = metrics_in_logs(work, [f["binary"] for f in deployed.values()])
        missing = sorted(f"{function} {metric}" for function, metric in METRICS_OF_THE_FLOW
                         if (function, metric) not in emitted)
        cloudwatch = aws.client("cloudwatch")
        drawn = watched_by_dashboards(cloudwatch)
        if not drawn:
            raise Failure("no dashboard deployed: the check of its widgets would prove nothing")
        unwatched = unpublished(watched_by_alarms(template) + drawn, emitted)
        if problems or missing or unwatched:
            raise Failure("metrics:\n  " + "\n  ".join(
                problems[:20] + [f"never emitted: {m}" for m in missing]
                + [f"watched, but no function publishes it: {a}" for a in unwatched]))
        alarms = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
        listed = cloudwatch.describe_alarms()["MetricAlarms"]
        if len(listed) != len(alarms):
            raise Failure(f"{len(alarms)} alarms in the template, {len(listed)} deployed")
        print(f"    {len(emitted)} metrics from {len({f for f, _ in emitted})} functions, each line one "
              f"CloudWatch reads: {', '.join(sorted({m for _, m in emitted}))}; {len(alarms)} alarms and "
              f"{len(drawn)} dashboard metrics, each of ours one a function publishes")
    finally:
        (work / "exchanges.json").write_text(json.dumps(platform.exchanges))


if __name__ == "__main__":
    main()
