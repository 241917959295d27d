"""What the SEI platform and EventBridge do to a deployment, done to the rehearsal's: API
Gateway HTTP API (payload 2.0) requests with the JWT authorizer's claims, the schedule's own
target input, and the events the bus rules route."""

import json
import re
import uuid

from deploy import Failure

ACCOUNT_ID = "acme"


def routes_of(template):
    """Route key ("GET /integrations") -> logical id of the function the HTTP API sends it to,
    from the translated API's own OpenAPI body."""
    routes = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::ApiGatewayV2::Api":
            continue
        for path, methods in resource["Properties"].get("Body", {}).get("paths", {}).items():
            for method, operation in methods.items():
                uri = operation.get("x-amazon-apigateway-integration", {}).get("uri", {})
                target = re.search(r"\$\{(\w+)\.Arn\}", json.dumps(uri))
                if target:
                    routes[f"{method.upper()} {path}"] = target.group(1)
    return routes


class Platform:
    """The rehearsal's stand-in for API Gateway, EventBridge and Scheduler's deliveries."""

    def __init__(self, emulator, functions, binaries, routes, account_claim, issuer, jwt):
        self.emulator = emulator
        self.jwt = jwt  # the caller's token, in every request's Authorization header, as sent
        self.functions = functions  # logical id -> the function's name at the emulator
        self.binaries = binaries  # deployed function name -> the function's name at the emulator
        self.routes = routes
        self.claim = account_claim
        self.issuer = issuer
        self.exchanges = []
        self.deliveries = []
        self.queues = {}  # queue URL -> (rule, function name)

    def api(self, route, ids=(), body=None, query=""):
        method, template = route.split(" ", 1)
        ids = list(ids)
        params, segments = {}, []
        for segment in template.split("/"):
            if segment.startswith("{"):
                params[segment[1:-1]] = ids.pop(0)
                segments.append(params[segment[1:-1]])
            else:
                segments.append(segment)
        path = "/".join(segments)
        event = {
            "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": query,
            "headers": {"content-type": "application/json", "host": "api.rehearsal.example",
                        "authorization": f"Bearer {self.jwt}"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "rehearsal",
                "authorizer": {"jwt": {"claims": {"sub": "user-1", "iss": self.issuer,
                                                  self.claim: ACCOUNT_ID}, "scopes": None}},
                "domainName": "api.rehearsal.example", "domainPrefix": "api",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.7", "userAgent": "rehearsal"},
                "requestId": str(uuid.uuid4()), "routeKey": route, "stage": "$default",
                "time": "05/Dec/2026:12:00:00 +0000", "timeEpoch": 1796479200000,
            },
            "isBase64Encoded": False,
        }
        if params:
            event["pathParameters"] = params
        if query:
            event["queryStringParameters"] = dict(kv.split("=", 1) for kv in query.split("&"))
        if body is not None:
            event["body"] = json.dumps(body)
        function = self.functions[self.routes[route]]
        answer = self.emulator.invoke(function, event)
        headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
        text = answer.get("body") or ""
        self.exchanges.append({"route": route, "request": body, "status": answer["statusCode"],
                               "content_type": headers.get("content-type"), "body": text})
        parsed = json.loads(text) if headers.get("content-type", "").startswith("application/json") and text else text
        return answer["statusCode"], parsed

    def expect(self, status, wanted, what, answer):
        if status != wanted:
            raise Failure(f"{what}: {status}, wanted {wanted}: {str(answer)[:1500]}")

    def route_rules_to_queues(self, aws, bus):
        """moto matches events against the rules' patterns but cannot invoke a Lambda target:
        each rule's function targets are swapped for a queue of its own, which `pump` empties
        into the function, as EventBridge would invoke it (the whole event as its input)."""
        events, sqs = aws.client("events"), aws.client("sqs")
        scheduled = []
        self.bus = bus
        for bus_name in (bus, "default"):
            for rule in events.list_rules(EventBusName=bus_name)["Rules"]:
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]
                for target in targets:
                    deployed = target["Arn"].split(":function:")[-1].split(":")[0]
                    if deployed not in self.binaries:
                        continue
                    function = self.binaries[deployed]
                    if rule.get("ScheduleExpression"):
                        scheduled.append((rule["Name"], rule["ScheduleExpression"], function,
                                          json.loads(target.get("Input", "{}"))))
                        continue
                    shaped = {"Input", "InputPath", "InputTransformer"} & set(target)
                    if shaped:
                        raise Failure(f"rule {rule['Name']}: its target shapes its input "
                                      f"({', '.join(sorted(shaped))}), which the rehearsal's "
                                      "delivery does not reproduce")
                    url = sqs.create_queue(QueueName=f"rehearsal-{uuid.uuid4().hex[:12]}")["QueueUrl"]
                    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                    events.put_targets(Rule=rule["Name"], EventBusName=bus_name,
                                       Targets=[{"Id": f"rehearsal-{target['Id']}"[:64], "Arn": arn}])
                    events.remove_targets(Rule=rule["Name"], EventBusName=bus_name, Ids=[target["Id"]])
                    self.queues[url] = (rule["Name"], function)
        return scheduled

    def routed(self, aws, kind):
        """The functions the deployed rules route an event of `kind` to: put on the bus (moto
        matches it against the rules' patterns) and taken off the rules' queues, never invoked.
        Call it with the queues empty (after `pump`)."""
        aws.client("events").put_events(Entries=[{
            "Source": "sei-jira", "DetailType": kind, "EventBusName": self.bus,
            "Detail": json.dumps({"rehearsal": "where does this kind go"})}])
        sqs, functions = aws.client("sqs"), set()
        for url, (_, function) in self.queues.items():
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                if json.loads(message["Body"]).get("detail-type") == kind:
                    functions.add(function)
        return functions

    def delivered(self, function, answer):
        """Fails on an event's handling that failed: an error, or a sync run that failed."""
        if not isinstance(answer, dict) or "errorMessage" in answer or "errorType" in answer \
                or answer.get("outcome") == "failed":
            raise Failure(f"{function} failed on an event: {str(answer)[:1500]}")

    def pump(self, aws, limit=100):
        """Delivers every event the rules matched, and those their handling put on the bus in
        turn, until none is left."""
        sqs = aws.client("sqs")
        delivered = 0
        while True:
            found = False
            for url, (rule, function) in self.queues.items():
                for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                    found = True
                    event = json.loads(message["Body"])
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    self.deliveries.append((event.get("detail-type"), rule, function))
                    print(f"    bus: {event.get('detail-type')} -> {function} (rule {rule})")
                    self.delivered(function, self.emulator.invoke(function, event))
                    delivered += 1
                    if delivered > limit:
                        raise Failure(f"more than {limit} events delivered: a loop?")
            if not found:
                return delivered
