"""Template handling of the CloudFormation test endpoint: parsing (JSON, or
YAML with the short-form intrinsic tags), validation with AWS's error
wordings, dependency order, conditions, intrinsic functions, and fake but
stable physical ids and attributes.

Nothing here touches the stack store; cfn.py drives it. A Resolver is
given the values it can see (parameters, pseudo parameters, the physical
ids and attributes of resources that exist, exports) and evaluates a
template fragment.
"""

import base64
import hashlib
import json
import re

from awspeer import ACCOUNT
from query import AwsError, validation

MAX_BODY = 51200          # TemplateBody, bytes
MAX_URL_TEMPLATE = 1000000  # TemplateURL, bytes
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200

IAM_TYPES = {
    "AWS::IAM::Role": "RoleName", "AWS::IAM::Policy": None, "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::AccessKey": None, "AWS::IAM::UserToGroupAddition": None,
}

PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition",
          "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs")

# Properties that give a resource its physical name (a change replaces it).
NAME_PROPS = {
    "AWS::S3::Bucket": "BucketName", "AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName",
    "AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName", "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name", "AWS::Events::EventBus": "Name", "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SecretsManager::Secret": "Name", "AWS::SSM::Parameter": "Name", "AWS::ECR::Repository": "RepositoryName",
    "AWS::ApiGatewayV2::Stage": "StageName", "AWS::ApiGatewayV2::DomainName": "DomainName",
    "AWS::Scheduler::Schedule": "Name",
}

# Properties whose change replaces the resource: "Update requires: Replacement"
# in the CloudFormation resource reference (the registry schemas'
# createOnlyProperties). A changed name property (NAME_PROPS) replaces too.
REPLACE_PROPS = {
    "AWS::ApiGatewayV2::Api": ("ProtocolType",),
    "AWS::ApiGatewayV2::Stage": ("ApiId", "StageName"),
    "AWS::ApiGatewayV2::Route": ("ApiId",),
    "AWS::ApiGatewayV2::Integration": ("ApiId",),
    "AWS::ApiGatewayV2::Authorizer": ("ApiId",),
    "AWS::ApiGatewayV2::DomainName": ("DomainName",),
    "AWS::ApiGatewayV2::ApiMapping": ("DomainName",),
    "AWS::SQS::Queue": ("FifoQueue", "QueueName"),
    "AWS::SNS::Topic": ("FifoTopic", "TopicName"),
    "AWS::SNS::Subscription": ("Endpoint", "Protocol", "TopicArn"),
    "AWS::Events::EventBus": ("Name",),
    "AWS::Events::Rule": ("Name",),
    "AWS::Scheduler::Schedule": ("Name",),
    "AWS::Lambda::EventSourceMapping": ("EventSourceArn", "StartingPosition", "StartingPositionTimestamp",
                                        "SelfManagedEventSource", "AmazonManagedKafkaEventSourceConfig",
                                        "SelfManagedKafkaEventSourceConfig"),
    "AWS::DynamoDB::Table": ("TableName", "ImportSourceSpecification"),
    "AWS::Lambda::Permission": ("Action", "EventSourceToken", "FunctionName", "FunctionUrlAuthType",
                                "InvokedViaFunctionUrl", "Principal", "PrincipalOrgID", "SourceAccount", "SourceArn"),
    "AWS::Lambda::Function": ("FunctionName", "PackageType"),
    "AWS::IAM::Role": ("Path", "RoleName"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
}

# The Fn::GetAtt attributes AWS documents ("Return values") for the types the
# components emit; any other attribute of these types is refused as AWS does
# ("Template error: resource X does not support attribute type Y in
# Fn::GetAtt"). Types not listed here accept any attribute.
ATTRS = {
    "AWS::ApiGatewayV2::Api": ("ApiEndpoint", "ApiId"),
    "AWS::ApiGatewayV2::Stage": (),
    "AWS::ApiGatewayV2::Route": ("RouteId",),
    "AWS::ApiGatewayV2::Integration": ("IntegrationId",),
    "AWS::ApiGatewayV2::Authorizer": ("AuthorizerId",),
    "AWS::ApiGatewayV2::DomainName": ("DomainNameArn", "RegionalDomainName", "RegionalHostedZoneId"),
    "AWS::ApiGatewayV2::ApiMapping": ("ApiMappingId",),
    "AWS::SQS::Queue": ("Arn", "QueueName", "QueueUrl"),
    "AWS::SQS::QueuePolicy": ("Id",),
    "AWS::SNS::Topic": ("TopicArn", "TopicName"),
    "AWS::SNS::Subscription": ("Arn",),
    "AWS::SNS::TopicPolicy": ("Id",),
    "AWS::Events::EventBus": ("Arn", "Name", "Policy"),
    "AWS::Events::Rule": ("Arn",),
    "AWS::Scheduler::Schedule": ("Arn",),
    "AWS::Lambda::EventSourceMapping": ("EventSourceMappingArn", "Id"),
    "AWS::Lambda::Permission": ("Id",),
    "AWS::DynamoDB::Table": ("Arn", "StreamArn"),
    "AWS::IAM::Role": ("Arn", "RoleId"),
    "AWS::IAM::Policy": ("Id",),
    "AWS::Logs::LogGroup": ("Arn",),
}

# API Gateway's regional hosted zone (RegionalHostedZoneId) per region.
APIGW_ZONES = {"us-east-1": "Z1UJRXOUMOOFQ8"}


class NoValue:
    """AWS::NoValue: the enclosing key or list item disappears."""


NOVALUE = NoValue()


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def make(tag):
        fn = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else "Fn::" + tag)

        def construct(loader, node):
            if isinstance(node, yaml.ScalarNode):
                v = loader.construct_scalar(node)
                if tag == "GetAtt":
                    v = v.split(".", 1)
            elif isinstance(node, yaml.SequenceNode):
                v = loader.construct_sequence(node, deep=True)
            else:
                v = loader.construct_mapping(node, deep=True)
            return {fn: v}
        return construct

    for t in ("Ref", "Condition", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And",
              "Or", "ImportValue", "Base64", "GetAZs", "FindInMap", "Cidr", "Length", "ToJsonString",
              "Transform"):
        Loader.add_constructor("!" + t, make(t))
    # Keep timestamps and dates as strings (AWSTemplateFormatVersion).
    Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
                                      for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return Loader


def parse_template(body):
    """The template as a dict. Raises ValidationError as AWS words it."""
    text = body.strip()
    if text.startswith("{"):
        try:
            t = json.loads(text)
        except ValueError:
            raise validation("Template format error: JSON not well-formed. (line %d, column %d)" % _json_pos(text))
    else:
        try:
            import yaml
            t = yaml.load(text, Loader=_yaml_loader())
        except ImportError:
            raise validation("Template format error: JSON not well-formed.")
        except Exception as e:  # yaml.YAMLError
            mark = getattr(e, "problem_mark", None)
            raise validation("Template format error: YAML not well-formed. (line %d, column %d)" % (
                (mark.line + 1, mark.column + 1) if mark else (1, 1)))
    if not isinstance(t, dict):
        raise validation("Template format error: unsupported structure.")
    check_template(t)
    return t


def _json_pos(text):
    try:
        json.loads(text)
    except ValueError as e:
        return getattr(e, "lineno", 1), getattr(e, "colno", 1)
    return 1, 1


def refs_in(v, acc=None):
    """(kind, name, attr) references in a fragment: ('ref', X, None),
    ('getatt', X, Attr), ('cond', X, None), ('import', name, None)."""
    if acc is None:
        acc = []
    if isinstance(v, dict):
        if len(v) == 1:
            k, x = next(iter(v.items()))
            if k == "Ref" and isinstance(x, str):
                acc.append(("ref", x, None))
                return acc
            if k == "Fn::GetAtt":
                if isinstance(x, str):
                    x = x.split(".", 1)
                if isinstance(x, list) and len(x) == 2 and isinstance(x[0], str):
                    acc.append(("getatt", x[0], x[1] if isinstance(x[1], str) else None))
                    if not isinstance(x[1], str):
                        refs_in(x[1], acc)
                    return acc
            if k == "Fn::Sub":
                s, m = (x, {}) if isinstance(x, str) else (x[0] if x else "", x[1] if len(x) > 1 else {})
                if isinstance(s, str):
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", s):
                        name = name.strip()
                        if name in m:
                            continue
                        if "." in name and not name.startswith("AWS::"):
                            a, b = name.split(".", 1)
                            acc.append(("getatt", a, b))
                        else:
                            acc.append(("ref", name, None))
                refs_in(m, acc)
                return acc
            if k == "Condition" and isinstance(x, str):
                acc.append(("cond", x, None))
                return acc
        for x in v.values():
            refs_in(x, acc)
    elif isinstance(v, list):
        for x in v:
            refs_in(x, acc)
    return acc


def check_template(t):
    """Structural checks, AWS's wording."""
    res = t.get("Resources")
    if not isinstance(res, dict) or not res:
        raise validation("Template format error: At least one Resources member must be defined.")
    if len(res) > MAX_RESOURCES:
        raise validation("Template format error: Number of resources, %d, is greater than maximum allowed, %d"
                         % (len(res), MAX_RESOURCES))
    outs = t.get("Outputs") or {}
    if len(outs) > MAX_OUTPUTS:
        raise validation("Template format error: Number of outputs, %d, is greater than maximum allowed, %d"
                         % (len(outs), MAX_OUTPUTS))
    params = t.get("Parameters") or {}
    if len(params) > MAX_PARAMETERS:
        raise validation("Template format error: Number of parameters, %d, is greater than maximum allowed, %d"
                         % (len(params), MAX_PARAMETERS))
    for lid, r in res.items():
        if not re.fullmatch(r"[A-Za-z0-9]+", lid):
            raise validation("Template format error: Resource name %s is non alphanumeric." % lid)
        if not isinstance(r, dict) or not isinstance(r.get("Type"), str):
            raise validation("Template format error: [/Resources/%s] Every Resources object must contain a Type member." % lid)
    conds = t.get("Conditions") or {}
    known = set(res) | set(params) | set(PSEUDO)
    unresolved = []
    for lid, r in res.items():
        for kind, name, attr in refs_in([r.get("Properties"), r.get("Metadata")]):
            if kind == "ref" and name not in known and name not in unresolved:
                unresolved.append(name)
            elif kind == "getatt" and name not in res:
                raise validation("Template error: instance of Fn::GetAtt references undefined resource %s" % name)
            elif kind == "getatt":
                check_attribute(res, name, attr)
            elif kind == "cond" and name not in conds:
                raise validation("Template format error: Unresolved condition dependency %s in Fn::If" % name)
        deps = r.get("DependsOn") or []
        for d in ([deps] if isinstance(deps, str) else deps):
            if d not in res:
                raise validation("Template format error: Unresolved resource dependencies [%s] in the Resources "
                                 "block of the template" % d)
        c = r.get("Condition")
        if c is not None and c not in conds:
            raise validation("Template format error: Unresolved dependencies [%s]. Cannot reference resources "
                             "in the Conditions block of the template" % c)
    if unresolved:
        raise validation("Template format error: Unresolved resource dependencies [%s] in the Resources block of "
                         "the template" % ", ".join(unresolved))
    for oid, o in outs.items():
        if not isinstance(o, dict) or "Value" not in o:
            raise validation("Template format error: Every Outputs member must contain a Value object")
        for kind, name, attr in refs_in(o):
            if kind == "ref" and name not in known:
                raise validation("Template format error: Unresolved resource dependencies [%s] in the Outputs "
                                 "block of the template" % name)
            if kind == "getatt" and name not in res:
                raise validation("Template error: instance of Fn::GetAtt references undefined resource %s" % name)
            if kind == "getatt":
                check_attribute(res, name, attr)
    order(t)  # circular dependencies


def check_attribute(res, lid, attr):
    """AWS refuses a GetAtt of an attribute the type does not have."""
    typ = (res.get(lid) or {}).get("Type")
    if isinstance(attr, str) and typ in ATTRS and attr not in ATTRS[typ]:
        raise validation("Template error: resource %s does not support attribute type %s in Fn::GetAtt" % (lid, attr))


def dependencies(t, lid):
    r = t["Resources"][lid]
    deps = []
    for kind, name, attr in refs_in(r.get("Properties")) + refs_in(r.get("Metadata")):
        if kind in ("ref", "getatt") and name in t["Resources"] and name not in deps:
            deps.append(name)
    d = r.get("DependsOn") or []
    for x in ([d] if isinstance(d, str) else d):
        if x not in deps:
            deps.append(x)
    return deps


def order(t):
    """Logical ids in dependency order (template order among equals).
    Raises AWS's circular dependency error."""
    res = t["Resources"]
    deps = {lid: dependencies(t, lid) for lid in res}
    done, out = set(), []
    remaining = list(res)
    while remaining:
        ready = [lid for lid in remaining if all(d in done for d in deps[lid])]
        if not ready:
            raise validation("Circular dependency between resources: [%s]" % ", ".join(sorted(remaining)))
        for lid in ready:
            done.add(lid)
            out.append(lid)
        remaining = [x for x in remaining if x not in done]
    return out


def needed_capabilities(t):
    """The capability a template's IAM resources need (None, CAPABILITY_IAM or
    CAPABILITY_NAMED_IAM) and whether it has a macro/transform."""
    need = None
    for r in t["Resources"].values():
        typ = r.get("Type")
        if typ in IAM_TYPES:
            prop = IAM_TYPES[typ]
            if prop and prop in (r.get("Properties") or {}):
                need = "CAPABILITY_NAMED_IAM"
            elif need is None:
                need = "CAPABILITY_IAM"
    return need, bool(t.get("Transform"))


def check_capabilities(t, caps):
    need, transform = needed_capabilities(t)
    caps = set(caps or ())
    if transform and "CAPABILITY_AUTO_EXPAND" not in caps:
        raise AwsError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
    if need == "CAPABILITY_NAMED_IAM" and "CAPABILITY_NAMED_IAM" not in caps:
        raise AwsError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    if need == "CAPABILITY_IAM" and not caps & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
        raise AwsError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

def resolve_parameters(t, given, previous, ssm_lookup):
    """given: [{ParameterKey, ParameterValue?, UsePreviousValue?}];
    previous: {key: value} of the stack's current parameters.
    Returns [(key, value, resolved_value_or_None, no_echo)] in template
    order. Raises AWS's ValidationErrors."""
    decl = t.get("Parameters") or {}
    vals = {}
    unknown = []
    for g in given:
        k = g.get("ParameterKey")
        if k not in decl:
            unknown.append(k)
            continue
        if str(g.get("UsePreviousValue", "")).lower() == "true":
            if k not in previous:
                raise validation("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for "
                                 "a parameter key not in the previous template" % k)
            vals[k] = previous[k]
        elif "ParameterValue" in g:
            vals[k] = g["ParameterValue"]
    if unknown:
        raise validation("Parameters: [%s] do not exist in the template" % ", ".join(unknown))
    missing = [k for k, d in decl.items() if k not in vals and "Default" not in (d or {})]
    if missing:
        raise validation("Parameters: [%s] must have values" % ", ".join(missing))
    out = []
    ssm_missing = []
    for k, d in decl.items():
        d = d or {}
        v = vals.get(k, d.get("Default"))
        if isinstance(v, list):
            v = ",".join(str(x) for x in v)
        v = "" if v is None else str(v)
        typ = d.get("Type", "String")
        allowed = d.get("AllowedValues")
        if allowed is not None and v not in [str(a) for a in allowed]:
            raise validation("Parameter '%s' must be one of AllowedValues" % k)
        if "AllowedPattern" in d and not re.fullmatch(d["AllowedPattern"], v):
            raise validation("Parameter '%s' must match pattern %s" % (k, d["AllowedPattern"]))
        if typ == "Number":
            try:
                float(v)
            except ValueError:
                raise validation("Parameter '%s' must be a number." % k)
        resolved = None
        if typ.startswith("AWS::SSM::Parameter::Value<"):
            resolved = ssm_lookup(v)
            if resolved is None:
                ssm_missing.append(v)
        out.append((k, v, resolved, str(d.get("NoEcho", "false")).lower() == "true", typ))
    if ssm_missing:
        raise validation("Unable to fetch parameters [%s] from parameter store for this account."
                         % ",".join(ssm_missing))
    return out


# ---------------------------------------------------------------------------
# Fake physical ids and attributes
# ---------------------------------------------------------------------------

def _h(*parts):
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()


def _b32(seed, n, upper=True):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    x = int(_h(seed), 16)
    s = ""
    for _ in range(n):
        x, r = divmod(x, 36)
        s += alphabet[r]
    return s if upper else s.lower()


def generated_name(stack_name, lid, seed, maxlen=None, suffix=""):
    """AWS's physical name for a resource given none: stack-LogicalId-RANDOM
    (the random part from the seed, so deterministic here), the stack name
    and logical id shortened to fit the service's limit, then suffix."""
    rand = _b32(seed, 12)
    sn, ln = stack_name[:30], lid[:30]
    if maxlen is not None:
        room = maxlen - len(rand) - 2 - len(suffix)
        while len(sn) + len(ln) > room:
            if len(sn) >= len(ln):
                sn = sn[:-1]
            else:
                ln = ln[:-1]
    return "%s-%s-%s%s" % (sn, ln, rand, suffix)


def _uuid(seed):
    h = _h(seed)
    return "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def _truthy(v):
    return v is True or str(v).lower() == "true"


def rule_bus(props):
    """The name of an Events rule's bus (its EventBusName may be a name or an
    ARN); None for the default bus."""
    bus = (props or {}).get("EventBusName")
    if not isinstance(bus, str) or not bus:
        return None
    if bus.startswith("arn:"):
        bus = bus.split(":event-bus/", 1)[-1]
    return None if bus == "default" else bus


def physical_id(stack_name, stack_id, region, lid, typ, props, generation=0):
    """A fake, stable physical id (what Ref returns) for a new resource, in
    AWS's shapes. A resource without a name property gets AWS's generated
    name, stack-LogicalId-RANDOM (RANDOM from the stack id, logical id and
    generation: a replacement gets a new one)."""
    seed = "%s/%s/%d" % (stack_id, lid, generation)
    props = props if isinstance(props, dict) else {}
    name_prop = NAME_PROPS.get(typ)
    name = props.get(name_prop) if name_prop else None
    if not isinstance(name, str):
        name = None
    gen = "%s-%s-%s" % (stack_name[:30], lid[:30], _b32(seed, 12))
    if typ == "AWS::S3::Bucket":
        return name or gen.lower()[:63]
    if typ == "AWS::SQS::Queue":
        # A FIFO queue's name ends .fifo (AWS requires it of a given name and
        # appends it to a generated one); at most 80 characters.
        fifo = _truthy(props.get("FifoQueue"))
        q = name or generated_name(stack_name, lid, seed, 80, ".fifo" if fifo else "")
        return "https://sqs.%s.amazonaws.com/%s/%s" % (region, ACCOUNT, q)
    if typ == "AWS::SNS::Topic":
        fifo = _truthy(props.get("FifoTopic"))
        topic = name or generated_name(stack_name, lid, seed, 256, ".fifo" if fifo else "")
        return "arn:aws:sns:%s:%s:%s" % (region, ACCOUNT, topic)
    if typ == "AWS::SNS::Subscription":
        topic = props.get("TopicArn")
        if not isinstance(topic, str) or not topic.startswith("arn:"):
            topic = "arn:aws:sns:%s:%s:%s" % (region, ACCOUNT, topic if isinstance(topic, str) else gen)
        return "%s:%s" % (topic, _uuid(seed))
    if typ in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
        return gen
    if typ == "AWS::Cognito::UserPool":
        return "%s_%s" % (region, _b32(seed, 9)[:9].replace("0", "a"))
    if typ == "AWS::Cognito::UserPoolClient":
        return _b32(seed, 26, upper=False)
    if typ == "AWS::Cognito::IdentityPool":
        h = _h(seed)
        return "%s:%s-%s-%s-%s-%s" % (region, h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
    if typ == "AWS::AppSync::GraphQLApi":
        return "arn:aws:appsync:%s:%s:apis/%s" % (region, ACCOUNT, _b32(seed, 26, upper=False))
    if typ in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api", "AWS::ApiGateway::Deployment",
               "AWS::ApiGateway::Resource"):
        return _b32(seed, 10, upper=False)
    if typ == "AWS::ApiGatewayV2::Stage":
        return name or "$default"
    if typ in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer",
               "AWS::ApiGatewayV2::Deployment"):
        return _b32(seed, 7, upper=False)
    if typ == "AWS::ApiGatewayV2::ApiMapping":
        return _b32(seed, 6, upper=False)
    if typ == "AWS::ApiGatewayV2::DomainName":
        return name or gen.lower() + ".example.com"
    if typ == "AWS::Lambda::EventSourceMapping":
        return _uuid(seed)
    if typ == "AWS::CloudFront::Distribution":
        return "E" + _b32(seed, 13)
    if typ == "AWS::EC2::VPC":
        return "vpc-" + _h(seed)[:17]
    if typ == "AWS::EC2::Subnet":
        return "subnet-" + _h(seed)[:17]
    if typ == "AWS::EC2::SecurityGroup":
        return "sg-" + _h(seed)[:17]
    if typ == "AWS::Lambda::Permission" or typ == "AWS::IAM::Policy":
        return generated_name(stack_name, lid, seed, 64)
    if typ == "AWS::Events::Rule":
        # Ref of a rule on a custom bus is "bus|name" (as AWS answers, though
        # the reference says only "the rule name").
        rule = name or generated_name(stack_name, lid, seed, 64)
        bus = rule_bus(props)
        return "%s|%s" % (bus, rule) if bus else rule
    if typ == "AWS::Scheduler::Schedule":
        return name or generated_name(stack_name, lid, seed, 64)
    if typ == "AWS::SSM::Parameter":
        return name or "CFN-%s-%s" % (lid, _b32(seed, 12))
    if typ == "AWS::IAM::ManagedPolicy":
        return "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name or gen)
    if typ == "AWS::SecretsManager::Secret":
        return "arn:aws:secretsmanager:%s:%s:secret:%s-%s" % (region, ACCOUNT, name or lid + _b32(seed, 12),
                                                                _b32(seed + "s", 6))
    if typ == "AWS::Logs::LogGroup":
        return name or gen
    if typ == "AWS::StepFunctions::StateMachine":
        return "arn:aws:states:%s:%s:stateMachine:%s" % (region, ACCOUNT, name or lid + "-" + _b32(seed, 12))
    if typ.startswith("Custom::") or typ == "AWS::CloudFormation::CustomResource":
        return "%s-%s-%s" % (stack_name[:30], lid[:30], _b32(seed, 12))
    if name:
        return name
    if typ.startswith("AWS::IAM::") or typ in ("AWS::Lambda::Function", "AWS::Events::EventBus"):
        return generated_name(stack_name, lid, seed, 64)
    return gen


def _service(typ):
    parts = typ.split("::")
    return parts[1].lower() if len(parts) > 2 else "custom"


def attribute(typ, physid, attr, region, lid, stack_id, props=None):
    """A fake, stable GetAtt value (a string, or a list for list attributes);
    props: the resource's resolved properties. Raises ValidationError for an
    attribute the resource does not have (StreamArn of a table without a
    stream)."""
    seed = "%s/%s/%s" % (stack_id, lid, attr)
    props = props if isinstance(props, dict) else {}
    last = physid.rsplit("/", 1)[-1] if physid else ""
    arn = None
    if typ == "AWS::S3::Bucket":
        m = {"Arn": "arn:aws:s3:::%s" % physid, "DomainName": "%s.s3.amazonaws.com" % physid,
             "RegionalDomainName": "%s.s3.%s.amazonaws.com" % (physid, region),
             "DualStackDomainName": "%s.s3.dualstack.%s.amazonaws.com" % (physid, region),
             "WebsiteURL": "http://%s.s3-website-%s.amazonaws.com" % (physid, region)}
        if attr in m:
            return m[attr]
    elif typ == "AWS::Lambda::Function":
        arn = "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT, physid)
        if attr == "Arn":
            return arn
        if attr == "SnapStartResponse.ApplyOn":
            return "None"
    elif typ == "AWS::IAM::Role":
        if attr == "Arn":
            path = props.get("Path") if isinstance(props.get("Path"), str) else "/"
            return "arn:aws:iam::%s:role%s%s" % (ACCOUNT, path if path.endswith("/") else path + "/", physid)
        if attr == "RoleId":
            return "AROA" + _b32(seed, 17)
    elif typ == "AWS::DynamoDB::Table":
        arn = "arn:aws:dynamodb:%s:%s:table/%s" % (region, ACCOUNT, physid)
        if attr == "Arn":
            return arn
        if attr == "StreamArn":
            spec = props.get("StreamSpecification")
            if not isinstance(spec, dict) or not spec.get("StreamViewType"):
                raise validation("Attribute 'StreamArn' does not exist")
            h = int(_h(seed), 16)
            return arn + "/stream/2024-%02d-%02dT%02d:%02d:%02d.%03d" % (
                h % 12 + 1, h // 12 % 28 + 1, h // 400 % 24, h // 9600 % 60, h // 576000 % 60, h // 34560000 % 1000)
    elif typ == "AWS::SQS::Queue":
        name = physid.rsplit("/", 1)[-1]
        m = {"Arn": "arn:aws:sqs:%s:%s:%s" % (region, ACCOUNT, name), "QueueName": name, "QueueUrl": physid}
        if attr in m:
            return m[attr]
    elif typ == "AWS::SNS::Topic":
        if attr == "TopicArn":
            return physid
        if attr == "TopicName":
            return physid.rsplit(":", 1)[-1]
    elif typ == "AWS::SNS::Subscription":
        if attr == "Arn":
            return physid
    elif typ in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::IAM::Policy", "AWS::Lambda::Permission"):
        if attr == "Id":
            return physid
    elif typ == "AWS::Cognito::UserPool":
        m = {"Arn": "arn:aws:cognito-idp:%s:%s:userpool/%s" % (region, ACCOUNT, physid),
             "ProviderName": "cognito-idp.%s.amazonaws.com/%s" % (region, physid),
             "ProviderURL": "https://cognito-idp.%s.amazonaws.com/%s" % (region, physid),
             "UserPoolId": physid}
        if attr in m:
            return m[attr]
    elif typ == "AWS::Cognito::UserPoolClient":
        if attr == "ClientId":
            return physid
        if attr == "ClientSecret":
            return _b32(seed, 51, upper=False)
    elif typ == "AWS::Cognito::IdentityPool":
        if attr == "Name":
            return "IdentityPool_" + _b32(seed, 8)
        if attr == "Id":
            return physid
    elif typ == "AWS::AppSync::GraphQLApi":
        api = last
        m = {"ApiId": api, "Arn": physid, "GraphQLUrl": "https://%s.appsync-api.%s.amazonaws.com/graphql" % (
            _b32(seed + "h", 26, upper=False), region),
            "RealtimeUrl": "wss://%s.appsync-realtime-api.%s.amazonaws.com/graphql" % (
            _b32(seed + "h", 26, upper=False), region),
            "GraphQLDns": "%s.appsync-api.%s.amazonaws.com" % (_b32(seed + "h", 26, upper=False), region),
            "GraphQLEndpointArn": physid}
        if attr in m:
            return m[attr]
    elif typ == "AWS::AppSync::ApiKey":
        if attr == "ApiKey":
            return "da2-" + _b32(seed, 26, upper=False)
        if attr == "Arn":
            return physid
    elif typ == "AWS::ApiGatewayV2::Api":
        if attr == "ApiEndpoint":
            if str(props.get("ProtocolType", "")).upper() == "WEBSOCKET":
                return "wss://%s.execute-api.%s.amazonaws.com" % (physid, region)
            return "https://%s.execute-api.%s.amazonaws.com" % (physid, region)
        if attr == "ApiId":
            return physid
    elif typ in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer",
                 "AWS::ApiGatewayV2::ApiMapping"):
        if attr == typ.rsplit("::", 1)[-1] + "Id":
            return physid
    elif typ == "AWS::ApiGatewayV2::DomainName":
        if attr == "RegionalDomainName":
            return "d-%s.execute-api.%s.amazonaws.com" % (_b32(stack_id + lid + physid, 10, upper=False), region)
        if attr == "RegionalHostedZoneId":
            return APIGW_ZONES.get(region) or "Z" + _b32(region, 13)
        if attr == "DomainNameArn":
            return "arn:aws:apigateway:%s::/domainnames/%s" % (region, physid)
    elif typ == "AWS::Scheduler::Schedule":
        if attr == "Arn":
            group = props.get("GroupName") if isinstance(props.get("GroupName"), str) else "default"
            return "arn:aws:scheduler:%s:%s:schedule/%s/%s" % (region, ACCOUNT, group, physid)
    elif typ == "AWS::Lambda::EventSourceMapping":
        if attr == "Id":
            return physid
        if attr == "EventSourceMappingArn":
            return "arn:aws:lambda:%s:%s:event-source-mapping:%s" % (region, ACCOUNT, physid)
    elif typ == "AWS::ApiGateway::RestApi":
        if attr == "RootResourceId":
            return _b32(seed, 10, upper=False)
        if attr == "RestApiId":
            return physid
    elif typ == "AWS::CloudFront::Distribution":
        if attr == "DomainName":
            return "d%s.cloudfront.net" % _b32(seed, 13, upper=False)
        if attr == "Id":
            return physid
    elif typ == "AWS::Lambda::Url":
        if attr == "FunctionUrl":
            return "https://%s.lambda-url.%s.on.aws/" % (_b32(seed, 32, upper=False), region)
        if attr == "FunctionArn":
            return "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT, lid)
    elif typ == "AWS::Events::Rule" and attr == "Arn":
        # arn:...:rule/NAME on the default bus, rule/BUS/NAME on another
        return "arn:aws:events:%s:%s:rule/%s" % (region, ACCOUNT, physid.replace("|", "/"))
    elif typ == "AWS::Events::EventBus":
        if attr == "Arn":
            return "arn:aws:events:%s:%s:event-bus/%s" % (region, ACCOUNT, physid)
        if attr == "Name":
            return physid
        if attr == "Policy":
            pol = props.get("Policy")
            return pol if isinstance(pol, str) else json.dumps(pol, separators=(",", ":")) if pol else ""
    elif typ == "AWS::Logs::LogGroup" and attr == "Arn":
        return "arn:aws:logs:%s:%s:log-group:%s:*" % (region, ACCOUNT, physid)
    elif typ == "AWS::EC2::VPC":
        if attr == "CidrBlock":
            return "10.0.0.0/16"
        if attr == "DefaultSecurityGroup":
            return "sg-" + _h(seed)[:17]
        if attr == "VpcId":
            return physid
    elif typ == "AWS::EC2::SecurityGroup" and attr == "GroupId":
        return physid
    elif typ == "AWS::RDS::DBCluster":
        if attr == "Endpoint.Address":
            return "%s.cluster-%s.%s.rds.amazonaws.com" % (physid.lower(), _b32(seed, 12, upper=False), region)
        if attr == "Endpoint.Port":
            return "5432"
    if attr == "Arn":
        svc = _service(typ)
        res = typ.split("::")[-1].lower()
        if physid.startswith("arn:"):
            return physid
        return "arn:aws:%s:%s:%s:%s/%s" % (svc, region, ACCOUNT, res, physid)
    return "%s.%s" % (physid, attr)


# ---------------------------------------------------------------------------
# Intrinsics
# ---------------------------------------------------------------------------

class Unresolvable(Exception):
    """A reference to something not known yet (a resource not created)."""


class Resolver:
    """Evaluates template fragments.

    params: {key: value} (already resolved; list types as str "a,b");
    param_types: {key: Type}; pseudo: {AWS::Region: ...};
    ref(lid) -> physical id or raises Unresolvable;
    getatt(lid, attr) -> value or raises Unresolvable;
    imports(name) -> value or None; conditions: the template's section.
    """

    def __init__(self, t, params, param_types, pseudo, ref, getatt, imports, region):
        self.t = t
        self.params = params
        self.param_types = param_types
        self.pseudo = pseudo
        self.ref_fn = ref
        self.getatt_fn = getatt
        self.imports = imports
        self.region = region
        self._conds = {}
        self.imported = set()

    def condition(self, name):
        if name not in self._conds:
            conds = self.t.get("Conditions") or {}
            if name not in conds:
                raise validation("Template format error: Unresolved condition dependency %s in Fn::If" % name)
            self._conds[name] = None  # cycle guard
            v = self.eval(conds[name])
            self._conds[name] = bool(v) if not isinstance(v, str) else v.lower() == "true"
        if self._conds[name] is None:
            raise validation("Template error: Circular condition dependency %s" % name)
        return self._conds[name]

    def ref(self, name):
        if name in self.params:
            v = self.params[name]
            typ = self.param_types.get(name, "String")
            if typ.startswith("List<") or typ == "CommaDelimitedList" or typ.startswith("AWS::SSM::Parameter::Value<List"):
                return [x.strip() if typ.startswith("List<") else x for x in v.split(",")] if v != "" else []
            return v
        if name == "AWS::NoValue":
            return NOVALUE
        if name in self.pseudo:
            return self.pseudo[name]
        return self.ref_fn(name)

    def eval(self, v):
        if isinstance(v, list):
            out = []
            for x in v:
                r = self.eval(x)
                if r is not NOVALUE:
                    out.append(r)
            return out
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            k, x = next(iter(v.items()))
            fn = getattr(self, "_fn_" + k.replace("Fn::", "").replace("::", "_"), None)
            if k == "Ref":
                return self.ref(x)
            if k == "Condition" and isinstance(x, str):
                return self.condition(x)
            if (k.startswith("Fn::")) and fn is not None:
                return fn(x)
        out = {}
        for k, x in v.items():
            r = self.eval(x)
            if r is not NOVALUE:
                out[k] = r
        return out

    def _str(self, v, where):
        v = self.eval(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if not isinstance(v, str):
            raise validation("Template error: every %s object must be a string" % where)
        return v

    def _fn_GetAtt(self, x):
        if isinstance(x, str):
            x = x.split(".", 1)
        lid, attr = x[0], self.eval(x[1])
        return self.getatt_fn(lid, attr)

    def _fn_Sub(self, x):
        if isinstance(x, str):
            s, m = x, {}
        else:
            s, m = x[0], self.eval(x[1]) if len(x) > 1 else {}

        def sub(mo):
            name = mo.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in m:
                v = m[name]
            elif "." in name and not name.startswith("AWS::"):
                a, b = name.split(".", 1)
                v = self.getatt_fn(a, b)
            else:
                v = self.ref(name)
            if isinstance(v, list):
                raise validation("Template error: variable %s in Fn::Sub expression does not resolve to a string" % name)
            return str(v)
        return re.sub(r"\$\{([^}]*)\}", sub, s)

    def _fn_Join(self, x):
        sep, items = x[0], self.eval(x[1])
        if not isinstance(items, list):
            raise validation("Template error: every Fn::Join object requires two parameters, (1) a string "
                             "delimiter and (2) a list of strings to be joined or a function that returns a list "
                             "of strings (such as Fn::GetAZs) to be joined.")
        return sep.join("true" if i is True else "false" if i is False else str(i) for i in items)

    def _fn_Select(self, x):
        idx, items = int(self.eval(x[0])), self.eval(x[1])
        if not isinstance(items, list) or not 0 <= idx < len(items):
            raise validation("Template error: Fn::Select cannot select nonexistent value at index %d" % idx)
        return items[idx]

    def _fn_Split(self, x):
        return self._str(x[1], "Fn::Split").split(x[0])

    def _fn_If(self, x):
        return self.eval(x[1] if self.condition(x[0]) else x[2])

    def _fn_Equals(self, x):
        a, b = self.eval(x[0]), self.eval(x[1])
        return str(a) == str(b) if not (isinstance(a, list) or isinstance(b, list)) else a == b

    def _fn_Not(self, x):
        return not self._bool(x[0])

    def _fn_And(self, x):
        return all(self._bool(c) for c in x)

    def _fn_Or(self, x):
        return any(self._bool(c) for c in x)

    def _bool(self, c):
        v = self.eval(c)
        return v if isinstance(v, bool) else str(v).lower() == "true"

    def _fn_ImportValue(self, x):
        name = self._str(x, "Fn::ImportValue")
        v = self.imports(name)
        if v is None:
            raise validation("No export named %s found." % name)
        self.imported.add(name)
        return v

    def _fn_Base64(self, x):
        return base64.b64encode(self._str(x, "Fn::Base64").encode()).decode()

    def _fn_GetAZs(self, x):
        r = self.eval(x) or self.region
        return ["%s%s" % (r, z) for z in "abc"]

    def _fn_FindInMap(self, x):
        m = (self.t.get("Mappings") or {})
        a, b, c = (self._str(y, "Fn::FindInMap") for y in x[:3])
        try:
            return m[a][b][c]
        except (KeyError, TypeError):
            raise validation("Template error: Unable to get mapping for %s::%s::%s" % (a, b, c))

    def _fn_Length(self, x):
        v = self.eval(x)
        return len(v) if isinstance(v, list) else 0

    def _fn_ToJsonString(self, x):
        return json.dumps(self.eval(x), separators=(",", ":"))

    def _fn_Cidr(self, x):
        import ipaddress
        block, count, bits = self._str(x[0], "Fn::Cidr"), int(self.eval(x[1])), int(self.eval(x[2]))
        net = ipaddress.ip_network(block, strict=False)
        subs = net.subnets(new_prefix=net.max_prefixlen - bits)
        return [str(next(subs)) for _ in range(count)]


def resource_enabled(resolver, r):
    c = r.get("Condition")
    return True if c is None else resolver.condition(c)
