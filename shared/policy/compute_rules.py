"""Lambda (the API and Lambda@Edge) and Application Auto Scaling."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, is_num, known, parse_json, refers
from shared.runtime import mission
from shared.runtime import waiting_room as room

FUNCTION = "aws:lambda/function:Function"
API_MEMORY_MB = mission.API_MEMORY_MB
EDGE_REGION = "us-east-1"
VPC_ACCESS_POLICY = "AWSLambdaVPCAccessExecutionRole"
ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface")


def is_edge(res: Res, ctx: Context) -> bool:
    """Lambda@Edge functions are the Lambda functions of the edge layer (the layer that owns Lambda@Edge)."""
    return res.type == FUNCTION and (res.layer or ctx.layer) == "edge"


def _empty(value: object) -> bool:
    return value is None or value == [] or value == {}


# Layers whose functions are not the API but a declared kind that runs as a Node.js zip: the data layer's one
# function is the Secrets Manager rotation function of its database secrets (the layer builds no image). The
# mission's arm64, 3 GB and private-subnet rules hold for it as for the API.
ZIP_FUNCTION_LAYERS = {"data": "the Secrets Manager rotation function"}
ZIP_RUNTIME_MIN_MAJOR = 24  # the production Node.js major (nodejs24.x)


def _check_zip_function(res: Res, kind: str) -> Iterable[str]:
    if res.inputs.get("packageType") not in (None, "Zip"):
        yield f"packageType is {res.inputs.get('packageType')}: {kind} is a Node.js zip"
    runtime = res.inputs.get("runtime")
    major = _node_major(runtime)
    if runtime is not UNKNOWN and (major is None or major < ZIP_RUNTIME_MIN_MAJOR):
        yield f"runtime is {runtime or 'unset'}: {kind} runs on Node.js {ZIP_RUNTIME_MIN_MAJOR} (nodejs24.x)"
    if not res.inputs.get("handler"):
        yield f"handler is unset: {kind} needs one (index.handler)"
    if res.inputs.get("imageUri"):
        yield f"imageUri is set: {kind} is a zip, not an image"


def is_waiting_room_controller(res: Res) -> bool:
    """The API's image run with the controller's command (projects/app/waiting_room.py)."""
    commands = res.get("imageConfig", "commands")
    return commands is not UNKNOWN and as_list(commands) == [room.CONTROLLER_HANDLER]


def check_waiting_room_controller(res: Res) -> Iterable[str]:
    """The controller: the API's arm64 image, a DynamoDB loop outside the VPC (it reaches no database), its own
    smaller size, a 60 s timeout and a small reserved concurrency, so a stuck schedule cannot crowd the API."""
    arch = res.inputs.get("architectures")
    if arch is not UNKNOWN and as_list(arch) != ["arm64"]:
        yield f"architectures is {arch or 'unset (x86_64)'}: the controller runs the API's arm64 image"
    if res.inputs.get("packageType") != "Image" or not res.inputs.get("imageUri"):
        yield "the controller is the API's container image with another command (packageType Image, imageUri)"
    for key, want in (("memorySize", room.CONTROLLER_MEMORY_MB), ("timeout", room.CONTROLLER_TIMEOUT_S),
                      ("reservedConcurrentExecutions", room.CONTROLLER_RESERVED_CONCURRENCY)):
        value = res.inputs.get(key)
        if value is not UNKNOWN and value != want:
            yield f"{key} is {value}: the waiting room controller takes {want} (shared/runtime/waiting_room.py)"
    if as_list(res.get("vpcConfig", "subnetIds")):
        yield "the controller reaches DynamoDB only: no vpcConfig (no network interfaces, no ec2 rights)"


def check_api_function(res: Res, ctx: Context) -> Iterable[str]:
    """Every function outside the edge layer is arm64, 3072 MB and in a VPC; the API is a container image, the
    declared zip kinds (`ZIP_FUNCTION_LAYERS`) a Node.js 24 zip, the waiting room controller its own shape."""
    if is_edge(res, ctx):
        return
    if is_waiting_room_controller(res):
        yield from check_waiting_room_controller(res)
        return
    zip_kind = ZIP_FUNCTION_LAYERS.get(str(res.layer or ctx.layer))
    arch = res.inputs.get("architectures")
    if arch is not UNKNOWN and as_list(arch) != ["arm64"]:
        yield f"architectures is {arch or 'unset (x86_64)'}: the API runs on Graviton2, set ['arm64']"
    memory = res.inputs.get("memorySize")
    if memory is not UNKNOWN and memory != API_MEMORY_MB:
        yield f"memorySize is {memory if memory is not None else 'unset (128)'}: the mission fixes {API_MEMORY_MB} MB"
    if zip_kind is not None:
        yield from _check_zip_function(res, zip_kind)
    elif res.inputs.get("packageType") != "Image":
        yield f"packageType is {res.inputs.get('packageType') or 'unset (Zip)'}: the API is a container image"
    else:
        if not res.inputs.get("imageUri"):
            yield "an Image function needs imageUri (an ECR image of this account and region)"
        for key in ("runtime", "handler", "layers"):
            if not _empty(res.inputs.get(key)):
                yield f"an Image function must not set {key} (AWS refuses it)"
    subnets = res.get("vpcConfig", "subnetIds")
    groups = res.get("vpcConfig", "securityGroupIds")
    if subnets is not UNKNOWN and not as_list(subnets):
        yield "not in a VPC: vpcConfig.subnetIds must list the private subnets"
    if groups is not UNKNOWN and not as_list(groups):
        yield "vpcConfig.securityGroupIds is empty: a VPC function needs a security group"


def _node_major(runtime: object) -> int | None:
    match = re.match(r"^nodejs(\d+)\.x$", str(runtime))
    return int(match.group(1)) if match else None


def check_edge_function(res: Res, ctx: Context) -> Iterable[str]:
    """Lambda@Edge: x86_64, a published zip in us-east-1, no VPC, environment, layers, DLQ or reserved concurrency."""
    if not is_edge(res, ctx):
        return
    arch = res.inputs.get("architectures")
    if arch is not UNKNOWN and as_list(arch) not in ([], ["x86_64"]):
        yield f"architectures is {arch}: Lambda@Edge runs x86_64 only"
    if res.inputs.get("publish") is not True:
        yield "publish must be true: CloudFront invokes a numbered version, never $LATEST"
    region = res.region or ctx.default_region
    if region is not None and region != EDGE_REGION:
        yield f"region is {region}: Lambda@Edge functions are created in {EDGE_REGION} (explicit provider)"
    if res.inputs.get("packageType") not in (None, "Zip"):
        yield "Lambda@Edge takes a zip package, not a container image"
    if as_list(res.get("vpcConfig", "subnetIds")):
        yield "Lambda@Edge cannot run in a VPC: remove vpcConfig"
    variables = res.get("environment", "variables")
    if variables:
        yield "Lambda@Edge has no environment variables: remove environment (bundle config in the zip)"
    for key, what in (("layers", "layers"), ("deadLetterConfig", "a dead-letter queue"),
                      ("fileSystemConfig", "a file system")):
        if not _empty(res.inputs.get(key)):
            yield f"Lambda@Edge does not support {what}: remove {key}"
    reserved = res.inputs.get("reservedConcurrentExecutions")
    if reserved not in (None, -1, UNKNOWN):
        yield "Lambda@Edge does not support reserved concurrency"
    runtime = res.inputs.get("runtime")
    major = _node_major(runtime)
    if runtime is not UNKNOWN and (major is None or major < 18):
        yield f"runtime is {runtime}: use Node.js 18 or newer (nodejs20.x)"
    timeout = res.inputs.get("timeout")
    if is_num(timeout) and timeout > 30:
        yield f"timeout {timeout} s: Lambda@Edge allows at most 30 s (origin triggers), 5 s (viewer triggers)"


def _associations(distribution: Res) -> list[dict]:
    behaviors = [distribution.inputs.get("defaultCacheBehavior") or {}]
    behaviors += [b for b in as_list(distribution.inputs.get("orderedCacheBehaviors")) if isinstance(b, dict)]
    found = []
    for behavior in behaviors:
        if isinstance(behavior, dict):
            found += [a for a in as_list(behavior.get("lambdaFunctionAssociations")) if isinstance(a, dict)]
    return found


def check_edge_associations(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """CloudFront invokes numbered versions; viewer triggers fit 128 MB / 5 s, origin triggers 30 s."""
    functions = [r for r in resources if r.type == FUNCTION]
    for dist in (r for r in resources if r.type == "aws:cloudfront/distribution:Distribution"):
        for assoc in _associations(dist):
            arn, event = assoc.get("lambdaArn"), str(assoc.get("eventType", ""))
            if not isinstance(arn, str):
                continue
            if not re.search(r":function:[^:]+:\d+$", arn):
                yield dist, f"{event} association {arn} is not a numbered version (publish=True, qualifiedArn)"
                continue
            fname = arn.split(":function:")[1].split(":")[0]
            fn = next((f for f in functions if f.inputs.get("name") == fname), None)
            if fn is None:
                continue
            memory, timeout = fn.inputs.get("memorySize", 128), fn.inputs.get("timeout", 3)
            if event.startswith("viewer-"):
                if is_num(memory) and memory > 128:
                    yield fn, f"{event} trigger: memorySize {memory} MB exceeds the 128 MB viewer limit"
                if is_num(timeout) and timeout > 5:
                    yield fn, f"{event} trigger: timeout {timeout} s exceeds the 5 s viewer limit"
            elif event.startswith("origin-") and is_num(timeout) and timeout > 30:
                yield fn, f"{event} trigger: timeout {timeout} s exceeds the 30 s origin limit"


def trusted_services(role: Res) -> set[str] | None:
    doc = parse_json(role.inputs.get("assumeRolePolicy"))
    if doc is UNKNOWN or not isinstance(doc, dict):
        return None
    services: set[str] = set()
    for st in as_list(doc.get("Statement")):
        if isinstance(st, dict) and st.get("Effect") == "Allow" and isinstance(st.get("Principal"), dict):
            services.update(str(s) for s in as_list(st["Principal"].get("Service")))
    return services


def _role_of(fn: Res, resources: list[Res]) -> Res | None:
    return next((r for r in resources if r.type == "aws:iam/role:Role" and refers(fn, "role", r)), None)


def check_edge_role_trust(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """The Lambda@Edge role is trusted by lambda.amazonaws.com and edgelambda.amazonaws.com."""
    for fn in (r for r in resources if is_edge(r, ctx)):
        role = _role_of(fn, resources)
        services = trusted_services(role) if role else None
        if services is None:
            continue
        missing = {"lambda.amazonaws.com", "edgelambda.amazonaws.com"} - services
        if missing:
            yield role, f"role of Lambda@Edge {fn.name} is not trusted by {', '.join(sorted(missing))}"


def _allows(doc: object, actions: Iterable[str]) -> set[str]:
    """The subset of `actions` some Allow statement of the policy document grants (wildcards honoured)."""
    granted: set[str] = set()
    if not isinstance(doc, dict):
        return granted
    for st in as_list(doc.get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        for pattern in as_list(st.get("Action")):
            regex = re.compile("^" + re.escape(str(pattern)).replace(r"\*", ".*") + "$", re.IGNORECASE)
            granted.update(a for a in actions if regex.match(a))
    return granted


def check_vpc_function_role(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """A VPC function's role can manage its network interfaces (AWSLambdaVPCAccessExecutionRole or inline)."""
    for fn in resources:
        if fn.type != FUNCTION or is_edge(fn, ctx) or not as_list(fn.get("vpcConfig", "subnetIds")):
            continue
        role = _role_of(fn, resources)
        if role is None:
            continue
        managed = [str(a) for a in as_list(role.inputs.get("managedPolicyArns"))]
        managed += [str(a.inputs.get("policyArn")) for a in resources
                    if a.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and refers(a, "role", role)]
        if any(m.endswith("/" + VPC_ACCESS_POLICY) for m in managed):
            continue
        docs = [parse_json(p.get("policy")) for p in as_list(role.inputs.get("inlinePolicies")) if isinstance(p, dict)]
        docs += [parse_json(p.inputs.get("policy")) for p in resources
                 if p.type == "aws:iam/rolePolicy:RolePolicy" and refers(p, "role", role)]
        attached = [p for p in resources if p.type == "aws:iam/policy:Policy" and any(
            refers(a, "policyArn", p) for a in resources
            if a.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and refers(a, "role", role))]
        docs += [parse_json(p.inputs.get("policy")) for p in attached]
        if any(d is UNKNOWN for d in docs) or any(not known(m) for m in managed):
            continue
        granted: set[str] = set()
        for doc in docs:
            granted |= _allows(doc, ENI_ACTIONS)
        missing = [a for a in ENI_ACTIONS if a not in granted]
        if missing:
            yield role, (f"role of VPC function {fn.name} cannot {', '.join(missing)}: attach "
                         f"{VPC_ACCESS_POLICY} (AWS refuses to create the function)")


def check_provisioned_concurrency(res: Res, ctx: Context) -> Iterable[str]:
    """Provisioned concurrency sits on a published version or an alias, never $LATEST."""
    qualifier = res.inputs.get("qualifier")
    if qualifier is not UNKNOWN and (not qualifier or qualifier == "$LATEST"):
        yield f"qualifier is {qualifier or 'unset'}: provisioned concurrency needs an alias or a published version"


SCALING = {
    "lambda": ("lambda:function:ProvisionedConcurrency", r"^function:[^:]+:(?!\$LATEST$)[^:]+$",
               "function:<name>:<alias>", "Lambda"),
    "rds": ("rds:cluster:ReadReplicaCount", r"^cluster:[^:]+$", "cluster:<cluster id>", "RDSReader"),
}


def check_scaling_shape(res: Res, ctx: Context) -> Iterable[str]:
    """Application Auto Scaling targets and policies use the namespace's documented dimension and id format."""
    namespace = res.inputs.get("serviceNamespace")
    if namespace not in SCALING:
        return
    dimension, id_pattern, id_doc, metric_prefix = SCALING[namespace]
    if res.inputs.get("scalableDimension") not in (dimension, UNKNOWN):
        yield f"scalableDimension is {res.inputs.get('scalableDimension')}; {namespace} uses {dimension}"
    resource_id = res.inputs.get("resourceId")
    if isinstance(resource_id, str) and not re.match(id_pattern, resource_id):
        yield f"resourceId {resource_id!r} is not {id_doc}"
    if res.type == "aws:appautoscaling/target:Target":
        low, high = res.inputs.get("minCapacity"), res.inputs.get("maxCapacity")
        if is_num(low) and is_num(high) and low > high:
            yield f"minCapacity {low} exceeds maxCapacity {high}"
    metric = res.get("targetTrackingScalingPolicyConfiguration", "predefinedMetricSpecification",
                     "predefinedMetricType")
    if isinstance(metric, str) and not metric.startswith(metric_prefix):
        yield f"predefined metric {metric} does not belong to namespace {namespace}"


def check_scaling_targets(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: the mission's numbers (`shared/runtime/mission.py`): provisioned concurrency range, scale-out."""
    namespace = res.inputs.get("serviceNamespace")
    if res.type == "aws:appautoscaling/target:Target" and namespace == "lambda":
        low, high = res.inputs.get("minCapacity"), res.inputs.get("maxCapacity")
        want_range = (mission.PROVISIONED_CONCURRENCY_MIN, mission.PROVISIONED_CONCURRENCY_MAX)
        if known(low) and known(high) and (low, high) != want_range:
            yield f"provisioned concurrency scales {low}-{high}; the mission asks for {want_range[0]}-{want_range[1]}"
    target = res.get("targetTrackingScalingPolicyConfiguration", "targetValue")
    if res.type == "aws:appautoscaling/policy:Policy" and is_num(target):
        want = {"lambda": mission.SCALE_OUT_UTILIZATION, "rds": mission.SCALE_OUT_CPU_PERCENT}.get(str(namespace))
        if want is not None and abs(float(target) - want) > 1e-9:
            yield (f"target tracking value {target}; the mission scales out at "
                   f"{mission.SCALE_OUT_CPU_PERCENT:g} % ({want:g})")


def check_tracing(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: X-Ray tracing on the API function and the API Gateway stage."""
    if res.type == FUNCTION and not is_edge(res, ctx) and res.get("tracingConfig", "mode") != "Active":
        yield "tracingConfig.mode is not Active: traces explain latency during flash sales"
    if res.type == "aws:apigateway/stage:Stage" and res.inputs.get("xrayTracingEnabled") is not True:
        yield "xrayTracingEnabled is not true on the stage"
