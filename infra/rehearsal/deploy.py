"""The template as a deployment: translated offline by the SAM translator into plain
CloudFormation, then created on moto server.

moto's CloudFormation creates every resource type it supports; the few it does not are created
here through their own service APIs, from their properties in the translated template (never a
hand-kept copy): the ones the stack refers to before it (given their names and ARNs in the
stack's template), the rest after it, their references to the stack's resources resolved by
moto as stack outputs.
"""

import copy
import json
import re
import time

from cfnlint.decode import decode_str
from moto.cloudformation.parsing import get_model_map
from samtranslator.translator.transform import transform

ACCOUNT = "123456789012"  # moto's default account


class Failure(Exception):
    """The rehearsal found the deployment wrong."""


class NoManagedPolicies:
    """The translator's managed-policy lookup (an IAM call); the template names none."""

    def load(self):
        return {}


def translate(template_text, code_bucket):
    """The SAM template as plain CloudFormation, each function's code in `code_bucket`."""
    template, matches = decode_str(template_text)
    if matches:
        raise Failure(f"template.yaml does not parse: {matches}")
    template = json.loads(json.dumps(template))  # plain dicts and strings
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{code_bucket}/{name}.zip"
    return transform(template, {}, NoManagedPolicies(), passthrough_metadata=True)


def deploy(template, aws, stack, parameters):
    """Creates the translated `template` as `stack` on moto; returns its resources' names,
    logical id -> {"Ref": physical id, attribute: value} for those created apart."""
    resources = template["Resources"]
    supported = set(get_model_map()) - set(MISHANDLED)
    # What CloudFormation would leave out, the rehearsal leaves out too (moto's own
    # CloudFormation judges the conditions of what it creates).
    apart = {n: r for n, r in resources.items() if r["Type"] not in supported
             and holds(r.get("Condition"), template, parameters)}
    skipped = [n for n, r in resources.items() if r["Type"] not in supported and n not in apart]
    for name, resource in apart.items():
        if resource["Type"] not in APART:
            raise Failure(
                f"{name}: moto's CloudFormation cannot create {resource['Type']}, "
                "and the rehearsal has no other way to"
            )
    known = {}
    for name, resource in apart.items():
        before = APART[resource["Type"]].get("before")
        if before:
            props = local(resource.get("Properties", {}), parameters, stack)
            known[name] = before(aws, stack, name, props)

    stack_template = copy.deepcopy(template)
    for name in list(apart) + skipped:
        del stack_template["Resources"][name]
    stack_template = substitute(stack_template, known)
    values = []  # (apart resource, its properties with placeholders)
    outputs = stack_template.setdefault("Outputs", {})
    for name, resource in apart.items():
        if APART[resource["Type"]].get("after"):
            props = substitute(resource.get("Properties", {}), known)
            values.append((name, resource, as_outputs(props, outputs, parameters, stack)))

    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(stack_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    status = wait_for(cfn, stack)
    if status["StackStatus"] != "CREATE_COMPLETE":
        raise Failure(f"stack {stack}: {status['StackStatus']} {status.get('StackStatusReason')}")
    produced = {o["OutputKey"]: o["OutputValue"] for o in status.get("Outputs", [])}
    for name, resource, props in values:
        APART[resource["Type"]]["after"](aws, known.get(name), filled(props, produced))
    physical = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId")
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
    }
    physical.update({name: k["Ref"] for name, k in known.items()})
    return physical, produced


def wait_for(cfn, stack):
    for _ in range(120):
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not status["StackStatus"].endswith("_IN_PROGRESS"):
            return status
        time.sleep(0.5)
    raise Failure(f"stack {stack} still in progress after 60 s")


def is_intrinsic(node):
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)) in INTRINSICS


INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::If", "Fn::FindInMap"}


def substitute(node, known):
    """`node` with every reference to a resource created apart replaced by its value."""
    if isinstance(node, list):
        return [substitute(n, known) for n in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["Ref"] and node["Ref"] in known:
        return known[node["Ref"]]["Ref"]
    if list(node) == ["Fn::GetAtt"]:
        target, attribute = attribute_of(node["Fn::GetAtt"])
        if target in known:
            return known[target][attribute]
    if list(node) == ["Fn::Sub"] and isinstance(node["Fn::Sub"], str):
        def value(m):
            target, _, attribute = m.group(1).partition(".")
            if target in known:
                return known[target][attribute or "Ref"]
            return m.group(0)
        return {"Fn::Sub": re.sub(r"\$\{([\w.:]+)\}", value, node["Fn::Sub"])}
    return {k: substitute(v, known) for k, v in node.items()}


def attribute_of(getatt):
    if isinstance(getatt, str):
        target, _, attribute = getatt.partition(".")
        return target, attribute
    return getatt[0], getatt[1]


def as_outputs(node, outputs, parameters, stack):
    """`node` with each intrinsic replaced by a placeholder that a new stack output fills."""
    if is_intrinsic(node):
        if list(node) == ["Ref"] and node["Ref"] in parameters:
            return parameters[node["Ref"]]
        if list(node) == ["Ref"] and node["Ref"] in PSEUDO:
            return PSEUDO[node["Ref"]](stack)
        key = f"RehearsalValue{len(outputs)}"
        outputs[key] = {"Value": node}
        return {"__output__": key}
    if isinstance(node, list):
        return [as_outputs(n, outputs, parameters, stack) for n in node]
    if isinstance(node, dict):
        return {k: as_outputs(v, outputs, parameters, stack) for k, v in node.items()}
    return node


PSEUDO = {
    "AWS::StackName": lambda stack: stack,
    "AWS::AccountId": lambda _: ACCOUNT,
    "AWS::Region": lambda _: "us-east-1",
    "AWS::Partition": lambda _: "aws",
    "AWS::URLSuffix": lambda _: "amazonaws.com",
}


def local(node, parameters, stack):
    """`node` with references to parameters and pseudo parameters resolved: all a resource
    created before the stack can know (the rest is left as it is, for `after`)."""
    if isinstance(node, list):
        return [local(n, parameters, stack) for n in node]
    if not isinstance(node, dict):
        return node
    values = dict(parameters, **{k: f(stack) for k, f in PSEUDO.items()})
    if list(node) == ["Ref"] and node["Ref"] in values:
        return values[node["Ref"]]
    if list(node) == ["Fn::Sub"] and isinstance(node["Fn::Sub"], str):
        text = re.sub(r"\$\{([\w:]+)\}", lambda m: values.get(m.group(1), m.group(0)), node["Fn::Sub"])
        return node if "${" in text else text
    if is_intrinsic(node):
        return node
    return {k: local(v, parameters, stack) for k, v in node.items()}


def holds(condition, template, parameters):
    """Whether the template's condition named `condition` holds (None: no condition), for the
    intrinsic functions conditions use over parameters."""
    if condition is None:
        return True

    def value(node):
        if isinstance(node, dict) and list(node) == ["Ref"]:
            return parameters.get(node["Ref"], template["Parameters"][node["Ref"]].get("Default"))
        if isinstance(node, dict) and list(node) == ["Condition"]:
            return holds(node["Condition"], template, parameters)
        if isinstance(node, dict) and len(node) == 1:
            (fn, args), = node.items()
            args = [value(a) for a in args]
            return {"Fn::Equals": lambda: args[0] == args[1], "Fn::Not": lambda: not args[0],
                    "Fn::And": lambda: all(args), "Fn::Or": lambda: any(args)}[fn]()
        return node

    return value(template["Conditions"][condition])


def filled(node, produced):
    if isinstance(node, dict) and list(node) == ["__output__"]:
        return produced[node["__output__"]]
    if isinstance(node, list):
        return [filled(n, produced) for n in node]
    if isinstance(node, dict):
        return {k: filled(v, produced) for k, v in node.items()}
    return node


def generated_name(stack, logical):
    """A name as CloudFormation makes one up for a resource that names none."""
    return f"{stack}-{logical}-REHEARSAL"[:64]


# How the resource types moto's CloudFormation lacks are created: `before` the stack (returns
# the resource's Ref and attributes), or `after` it (its properties resolved).
def schedule_group_before(aws, stack, logical, props):
    name = props.get("Name") or generated_name(stack, logical)
    arn = aws.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    return {"Ref": name, "Arn": arn}


def http_api_before(aws, stack, logical, props):
    title = props.get("Body", {}).get("info", {}).get("title")
    name = props.get("Name") or (title if isinstance(title, str) else None) or stack
    api = aws.client("apigatewayv2").create_api(Name=name, ProtocolType="HTTP")
    return {"Ref": api["ApiId"], "ApiEndpoint": api["ApiEndpoint"]}


def http_api_after(aws, known, props):
    body = props.get("Body")
    if body:
        aws.client("apigatewayv2").reimport_api(
            ApiId=known["Ref"], Body=json.dumps(body), FailOnWarnings=False
        )


def stage_after(aws, _known, props):
    keep = {"ApiId", "StageName", "AutoDeploy", "DefaultRouteSettings", "AccessLogSettings",
            "StageVariables", "Tags", "Description"}
    props = {k: v for k, v in props.items() if k in keep}
    # Number parameters arrive as strings, as CloudFormation passes them.
    limits = props.get("DefaultRouteSettings", {})
    for key, kind in (("ThrottlingBurstLimit", int), ("ThrottlingRateLimit", float)):
        if key in limits:
            limits[key] = kind(limits[key])
    aws.client("apigatewayv2").create_stage(**props)


def bus_policy_after(aws, _known, props):
    statement = dict(props["Statement"], Sid=props["StatementId"])
    aws.client("events").put_permission(
        EventBusName=props["EventBusName"],
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def invoke_config_after(aws, _known, props):
    aws.client("lambda").put_function_event_invoke_config(
        FunctionName=props["FunctionName"],
        Qualifier=props.get("Qualifier", "$LATEST"),
        **{k: props[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                 "DestinationConfig") if k in props},
    )


def alarm_before(_aws, stack, logical, props):
    # Only named here: its metrics and actions refer to the stack's resources.
    return {"Ref": props.get("AlarmName") or generated_name(stack, logical)}


def alarm_after(aws, known, props):
    props = dict(props, AlarmName=known["Ref"])
    for key, kind in (("Threshold", float), ("EvaluationPeriods", int), ("Period", int)):
        if key in props:
            props[key] = kind(props[key])
    aws.client("cloudwatch").put_metric_alarm(**props)


def subscription_after(aws, _known, props):
    aws.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                Endpoint=props["Endpoint"])


def event_bus_before(aws, stack, logical, props):
    name = props.get("Name") or generated_name(stack, logical)
    arn = aws.client("events").create_event_bus(Name=name)["EventBusArn"]
    return {"Ref": name, "Arn": arn, "Name": name}


# Types moto's CloudFormation creates, but wrongly for our template (moto 5.2.5): a Ref to an
# EventBus yields moto's object rather than the bus's name, and a rule on it then fails.
MISHANDLED = {"AWS::Events::EventBus": "Ref is not the bus's name"}

APART = {
    "AWS::Events::EventBus": {"before": event_bus_before},
    "AWS::Scheduler::ScheduleGroup": {"before": schedule_group_before},
    "AWS::ApiGatewayV2::Api": {"before": http_api_before, "after": http_api_after},
    "AWS::ApiGatewayV2::Stage": {"after": stage_after},
    "AWS::Events::EventBusPolicy": {"after": bus_policy_after},
    "AWS::Lambda::EventInvokeConfig": {"after": invoke_config_after},
    "AWS::CloudWatch::Alarm": {"before": alarm_before, "after": alarm_after},
    "AWS::SNS::Subscription": {"after": subscription_after},
}
