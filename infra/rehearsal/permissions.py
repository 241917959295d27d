"""Each function's IAM policies, as deployed, against the AWS actions its code needs."""

import ast
import fnmatch
import json

from deploy import ACCOUNT, Failure

# The services the functions' code calls; other actions in a role (the Lambda service's own log
# writes, from SAM's basic execution policy) are not the code's to need.
CODE_SERVICES = ("dynamodb:", "secretsmanager:", "events:", "scheduler:", "iam:")


def statements(iam, role_name):
    """The statements of the role's policies, inline and attached, as moto keeps them."""
    found = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        found += as_list(document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])["Statement"])
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        try:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(PolicyArn=attached["PolicyArn"],
                                             VersionId=policy["DefaultVersionId"])
            found += as_list(document(version["PolicyVersion"]["Document"])["Statement"])
        except iam.exceptions.NoSuchEntityException:
            pass  # an AWS managed policy moto does not hold; none grants the code's services
    return found


def document(policy):
    """A policy document as moto answers it: JSON, or (for a role's inline policy created by its
    CloudFormation, moto 5.2.5) the Python text of one."""
    if isinstance(policy, dict):
        return policy
    try:
        return json.loads(policy)
    except ValueError:
        return ast.literal_eval(policy)


def as_list(value):
    return value if isinstance(value, list) else [value]


def touched_resource(action, env, deployed):
    """The ARN of the resource `action` acts on for this function (one of its kind), from the
    variable that names it in the function's environment."""
    try:
        return resource_arn(action, env, deployed)
    except KeyError as missing:
        raise Failure(f"{action}: its environment names no resource ({missing} is missing)") from None


def resource_arn(action, env, deployed):
    service = action.split(":")[0]
    region = "us-east-1"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{env['TABLE_NAME']}"
    if service == "events":
        return f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{env['EVENT_BUS_NAME']}"
    if service == "secretsmanager":
        return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{env['SECRET_PREFIX']}integration-AbCdEf"
    # The sync function schedules one-time retries (once-<integration>) with a role of their own;
    # the integration API, the recurring schedules (sync-<integration>).
    retries = "RETRY_ROLE_ARN" in env
    if service == "scheduler":
        name = "once-integration" if retries else "sync-integration"
        return f"arn:aws:scheduler:{region}:{ACCOUNT}:schedule/{env['SCHEDULE_GROUP']}/{name}"
    if action == "iam:PassRole":
        return env["RETRY_ROLE_ARN"] if retries else deployed["SchedulerRoleArn"]
    raise ValueError(f"no resource known for {action}")


def allows(statement, action, resource):
    actions = as_list(statement.get("Action", []))
    resources = as_list(statement.get("Resource", []))
    return (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources))


def compare(declared, statements, env, deployed):
    """(missing, needless): actions the code needs that the policies do not allow (or deny) on
    the resource the code touches, and grants beyond its needs: a code-service action it never
    needs, or any grant by wildcard or by exclusion (`*`, NotAction, NotResource), which gives
    more than any list of needs."""
    allow = [s for s in statements if s.get("Effect") == "Allow"]
    deny = [s for s in statements if s.get("Effect") == "Deny"]

    def permitted(action):
        resource = touched_resource(action, env, deployed)
        return (any(allows(s, action, resource) for s in allow)
                and not any(allows(s, action, resource) for s in deny))

    missing = sorted(a for a in declared if not permitted(a))
    needed = {d.lower() for d in declared}
    needless = set()
    for s in allow:
        for key in ("NotAction", "NotResource"):
            if key in s:
                needless.add(f"{key} {as_list(s[key])}")
        for resource in as_list(s.get("Resource", [])):
            if resource == "*":
                needless.add(f"{as_list(s.get('Action', []))} on every resource")
        for action in as_list(s.get("Action", [])):
            if "*" in action or (action.lower().startswith(CODE_SERVICES)
                                 and action.lower() not in needed):
                needless.add(action)
    return missing, sorted(needless)
