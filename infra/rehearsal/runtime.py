"""The functions as Lambda runs them: each real binary under cargo-lambda's runtime emulator
(`cargo lambda watch --only-lambda-apis`), with the environment the deployment gives it, and its
AWS calls going through a recording proxy in front of moto, so that the rehearsal knows which
actions each function took."""

import http.client
import http.server
import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from deploy import Failure

# X-Amz-Target prefixes of the JSON protocols, by IAM service prefix.
TARGET_SERVICES = {"DynamoDB_20120810": "dynamodb", "secretsmanager": "secretsmanager",
                   "AWSEvents": "events"}
# EventBridge Scheduler speaks REST: the operation is the method on /schedules/{name}.
SCHEDULE_OPERATIONS = {"POST": "CreateSchedule", "PUT": "UpdateSchedule",
                       "DELETE": "DeleteSchedule", "GET": "GetSchedule"}
# What a transaction's items are authorised as.
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def actions_of(method, path, headers, body):
    """The IAM actions one AWS API request needs."""
    target = headers.get("X-Amz-Target")
    if target:
        prefix, _, operation = target.partition(".")
        service = TARGET_SERVICES.get(prefix, prefix.lower())
        if (service, operation) == ("dynamodb", "TransactWriteItems"):
            items = json.loads(body or b"{}").get("TransactItems", [])
            return {f"dynamodb:{TRANSACT_ACTIONS[k]}" for item in items for k in item}
        return {f"{service}:{operation}"}
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unknown"
    if service == "scheduler" and re.fullmatch(r"/schedules/[^/?]+(\?.*)?", path):
        actions = {f"scheduler:{SCHEDULE_OPERATIONS[method]}"}
        if method in ("POST", "PUT") and json.loads(body or b"{}").get("Target", {}).get("RoleArn"):
            actions.add("iam:PassRole")
        return actions
    return {f"{service}:{method} {path}"}


class RecordingProxy:
    """Forwards every request to moto, noting the actions it needs."""

    def __init__(self, moto_port):
        self.actions = set()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.actions |= actions_of(self.command, self.path, self.headers, body)
                upstream = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=60)
                upstream.request(self.command, self.path, body, dict(self.headers))
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The function dropped the request (a run that stopped while its sibling
                    # requests were in flight): as AWS would, the answer goes nowhere.
                    pass
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_for_port(port, what, proc=None, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise Failure(f"{what} did not listen on 127.0.0.1:{port} within {seconds} s")


class Emulator:
    """cargo-lambda's Lambda runtime API and invoke endpoint; the functions run beside it."""

    def __init__(self, cargo_lambda, repo, logs):
        self.port = free_port()
        self.logs = logs
        self.process = subprocess.Popen(
            [cargo_lambda, "lambda", "watch", "--only-lambda-apis", "--ignore-changes",
             "-A", "127.0.0.1", "-P", str(self.port), "--timeout", "900"],
            cwd=repo, stdout=open(logs / "emulator.log", "wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.functions = {}
        try:
            wait_for_port(self.port, "cargo lambda watch", self.process)
        except Failure:
            self.stop()
            raise

    def start(self, binary, deployed_name, environment, memory, proxy):
        """Starts `binary` as the deployed function `deployed_name`: the deployment's
        `environment`, what the Lambda service adds to it, and the AWS endpoint (`proxy`, in front
        of moto). The emulator knows a function by its binary's name (it checks the workspace's)."""
        name = binary.name
        env = dict(environment)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{self.port}/.rt/{name}",
            "AWS_LAMBDA_FUNCTION_NAME": deployed_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "_HANDLER": "bootstrap",
            "TZ": ":UTC",
            # Outside AWS: the emulator's endpoint, and never the instance metadata service.
            "SEI_AWS_ENDPOINT_URL": proxy.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        log = self.logs / f"{name}.log"
        process = subprocess.Popen([str(binary)], env=env, stdout=open(log, "wb"),
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.functions[name] = (process, log, proxy)
        return process

    def started(self, name, seconds):
        """Fails, with what the function (by its binary's name) printed, if it has stopped or
        stops within `seconds`."""
        process, log, _ = self.functions[name]
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return
        raise Failure(f"{name} stopped at start (exit {process.returncode}):\n"
                      + Path(log).read_text(errors="replace")[-2000:])

    def invoke(self, name, event):
        """The function's answer to `event`, through the emulator's invoke path."""
        process, log, _ = self.functions[name]
        if process.poll() is not None:
            raise Failure(f"{name} has stopped (exit {process.returncode}):\n"
                          + Path(log).read_text(errors="replace")[-2000:])
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(event).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        try:
            # Far beyond any invocation here; a function that dies mid-invocation ends the wait.
            with urllib.request.urlopen(request, timeout=300) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as e:
            raise Failure(f"{name} failed: {e.code} {e.read()[:2000]!r}\n"
                          + Path(log).read_text(errors="replace")[-2000:]) from e

    def stop(self):
        for process, _, _ in self.functions.values():
            process.kill()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
