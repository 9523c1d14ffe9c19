#!/usr/bin/env python3
"""Unit tests of test/iam/evaluator.py: the decision logic (allow, explicit
deny wins, implicit deny), wildcards in actions and ARNs, NotAction and
NotResource, condition operators, policy variables, resource policies, and
the resolution of template intrinsics to AWS-formatted ARNs.

    python3 test/iam/test_evaluator.py        (unittest; exit 0 when all pass)
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluator as E  # noqa: E402

A = E.ACCOUNT
R = E.REGION
Q1 = "arn:aws:sqs:%s:%s:orders" % (R, A)
Q2 = "arn:aws:sqs:%s:%s:jobs" % (R, A)
B = "arn:aws:s3:::media"


def pol(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **kw):
    return dict({"Effect": "Allow", "Action": action, "Resource": resource}, **kw)


def deny(action, resource, **kw):
    return dict({"Effect": "Deny", "Action": action, "Resource": resource}, **kw)


def decide(docs, action, resource, ctx=None, **kw):
    return E.evaluate(docs, action, resource, ctx, **kw)[0]


class Decisions(unittest.TestCase):
    def test_allow(self):
        p = pol(allow("sqs:SendMessage", Q1))
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "Allow")

    def test_implicit_deny(self):
        p = pol(allow("sqs:SendMessage", Q1))
        self.assertEqual(decide([p], "sqs:SendMessage", Q2), "ImplicitDeny")
        self.assertEqual(decide([p], "sqs:ReceiveMessage", Q1), "ImplicitDeny")
        self.assertEqual(decide([], "sqs:SendMessage", Q1), "ImplicitDeny")

    def test_explicit_deny_wins(self):
        p = pol(allow("sqs:*", "*"), deny("sqs:DeleteMessage", Q1))
        self.assertEqual(decide([p], "sqs:DeleteMessage", Q1), "Deny")
        self.assertEqual(decide([p], "sqs:DeleteMessage", Q2), "Allow")

    def test_deny_in_another_policy_wins(self):
        self.assertEqual(decide([pol(allow("*", "*")), pol(deny("s3:*", B + "/*"))],
                                "s3:GetObject", B + "/a"), "Deny")

    def test_action_list_and_single(self):
        p = pol(allow(["sqs:SendMessage", "sqs:GetQueueUrl"], [Q1, Q2]))
        self.assertEqual(decide([p], "sqs:GetQueueUrl", Q2), "Allow")
        self.assertEqual(decide([p], "sqs:PurgeQueue", Q2), "ImplicitDeny")


class Wildcards(unittest.TestCase):
    def test_action_star_and_case(self):
        p = pol(allow("sqs:Send*", Q1))
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "Allow")
        self.assertEqual(decide([p], "SQS:sendmessagebatch", Q1), "Allow")
        self.assertEqual(decide([p], "sqs:ReceiveMessage", Q1), "ImplicitDeny")
        self.assertEqual(decide([p], "sns:SendMessage", Q1), "ImplicitDeny")

    def test_action_question_mark(self):
        p = pol(allow("s3:?etObject", B + "/*"))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "Allow")
        self.assertEqual(decide([p], "s3:SetObject", B + "/k"), "Allow")
        self.assertEqual(decide([p], "s3:PutObject", B + "/k"), "ImplicitDeny")

    def test_star_everything(self):
        self.assertEqual(decide([pol(allow("*", "*"))], "dynamodb:PutItem", Q1), "Allow")

    def test_resource_wildcards(self):
        t = "arn:aws:dynamodb:%s:%s:table/items" % (R, A)
        p = pol(allow("dynamodb:Query", [t, t + "/index/*"]))
        self.assertEqual(decide([p], "dynamodb:Query", t), "Allow")
        self.assertEqual(decide([p], "dynamodb:Query", t + "/index/byOwner"), "Allow")
        self.assertEqual(decide([p], "dynamodb:Query", t + "2"), "ImplicitDeny")
        self.assertEqual(decide([p], "dynamodb:Query", t + "/stream/x"), "ImplicitDeny")
        self.assertEqual(decide([pol(allow("s3:GetObject", "arn:aws:s3:::med?a/*"))],
                                "s3:GetObject", B + "/a/b"), "Allow")

    def test_resource_is_case_sensitive(self):
        p = pol(allow("sqs:SendMessage", Q1))
        self.assertEqual(decide([p], "sqs:SendMessage", Q1.replace("orders", "Orders")), "ImplicitDeny")

    def test_wildcard_does_not_cross_arn_parts(self):
        # Each of the six parts is matched on its own ...
        self.assertFalse(E.arn_matches("arn:aws:sqs:*:*:orders", Q2))
        self.assertFalse(E.arn_matches("arn:aws:s?s:*:*:orders", "arn:aws:sns:%s:%s:orders:x" % (R, A)))
        self.assertTrue(E.arn_matches("arn:aws:*:*:*:orders", Q1))
        self.assertFalse(E.arn_matches("arn:aws:sqs:eu-*:*:orders", Q1))
        # ... and a pattern of fewer parts as one string: permissive (a
        # wildcard there may span colons), so "denied" results stay sound.
        self.assertTrue(E.arn_matches("arn:aws:sqs:*:orders", Q1))
        self.assertTrue(E.arn_matches("arn:aws:sqs:*:*:orders", Q1))
        self.assertTrue(E.arn_matches("arn:aws:sqs:*:*:*", Q1))
        # the resource part keeps its colons: a wildcard spans them there
        self.assertTrue(E.arn_matches("arn:aws:logs:*:*:log-group:x:*", "arn:aws:logs:r:a:log-group:x:log-stream:s"))


class NotElements(unittest.TestCase):
    def test_not_action(self):
        p = pol({"Effect": "Allow", "NotAction": ["sqs:DeleteMessage", "sqs:Purge*"], "Resource": Q1})
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "Allow")
        self.assertEqual(decide([p], "sqs:DeleteMessage", Q1), "ImplicitDeny")
        self.assertEqual(decide([p], "sqs:PurgeQueue", Q1), "ImplicitDeny")
        self.assertEqual(decide([p], "sqs:SendMessage", Q2), "ImplicitDeny")

    def test_not_action_deny(self):
        p = pol(allow("*", "*"), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": B + "/*"})
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "Allow")
        self.assertEqual(decide([p], "s3:PutObject", B + "/k"), "Deny")
        self.assertEqual(decide([p], "s3:PutObject", "arn:aws:s3:::other/k"), "Allow")

    def test_not_resource(self):
        p = pol({"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": Q1})
        self.assertEqual(decide([p], "sqs:SendMessage", Q2), "Allow")
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "ImplicitDeny")

    def test_not_resource_deny(self):
        p = pol(allow("sqs:*", "*"), {"Effect": "Deny", "Action": "sqs:*", "NotResource": [Q1]})
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "Allow")
        self.assertEqual(decide([p], "sqs:SendMessage", Q2), "Deny")

    def test_malformed_statement(self):
        with self.assertRaises(E.EvalError):
            decide([pol({"Effect": "Allow", "Resource": "*"})], "s3:GetObject", B)


class Conditions(unittest.TestCase):
    def test_string_like_s3_prefix(self):
        p = pol(allow("s3:ListBucket", B, Condition={"StringLike": {"s3:prefix": ["", "media/*"]}}))
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "media/a"}), "Allow")
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": ""}), "Allow")
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "private/"}), "ImplicitDeny")
        self.assertEqual(decide([p], "s3:ListBucket", B), "ImplicitDeny", "a missing key fails StringLike")

    def test_string_equals_and_ignore_case(self):
        p = pol(allow("s3:ListBucket", B, Condition={"StringEquals": {"s3:prefix": "a/"}}))
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "a/"}), "Allow")
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "A/"}), "ImplicitDeny")
        p = pol(allow("s3:ListBucket", B, Condition={"StringEqualsIgnoreCase": {"s3:prefix": "a/"}}))
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "A/"}), "Allow")

    def test_arn_like_source_arn(self):
        rule = "arn:aws:events:%s:%s:rule/bus/r1" % (R, A)
        p = pol(allow("sqs:SendMessage", Q1, Condition={"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/bus/*"}}))
        self.assertEqual(decide([p], "sqs:SendMessage", Q1, {"aws:SourceArn": rule}), "Allow")
        self.assertEqual(decide([p], "sqs:SendMessage", Q1, {"aws:SourceArn": rule.replace("bus", "other")}),
                         "ImplicitDeny")
        self.assertEqual(decide([p], "sqs:SendMessage", Q1), "ImplicitDeny")

    def test_arn_equals(self):
        src = "arn:aws:sns:%s:%s:alerts" % (R, A)
        p = pol(allow("sqs:SendMessage", Q1, Condition={"ArnEquals": {"aws:SourceArn": src}}))
        self.assertEqual(decide([p], "sqs:SendMessage", Q1, {"aws:SourceArn": src}), "Allow")
        self.assertEqual(decide([p], "sqs:SendMessage", Q1, {"aws:SourceArn": src + "2"}), "ImplicitDeny")

    def test_bool_secure_transport(self):
        p = pol(allow("s3:*", B + "/*"),
                deny("s3:*", [B, B + "/*"], Condition={"Bool": {"aws:SecureTransport": "false"}}))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"aws:SecureTransport": "true"}), "Allow")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"aws:SecureTransport": "false"}), "Deny")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "Allow", "TLS by default")

    def test_and_across_keys_or_across_values(self):
        p = pol(allow("s3:ListBucket", B, Condition={
            "StringLike": {"s3:prefix": ["a/*", "b/*"]},
            "StringEquals": {"s3:delimiter": "/"}}))
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "b/x", "s3:delimiter": "/"}), "Allow")
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "b/x"}), "ImplicitDeny")
        self.assertEqual(decide([p], "s3:ListBucket", B, {"s3:prefix": "c/x", "s3:delimiter": "/"}),
                         "ImplicitDeny")

    def test_negated_and_if_exists_and_null(self):
        p = pol(allow("s3:GetObject", B + "/*", Condition={"StringNotEquals": {"s3:prefix": "secret/"}}))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "x/"}), "Allow")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "secret/"}), "ImplicitDeny")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "Allow", "a missing key passes a negated operator")
        p = pol(allow("s3:GetObject", B + "/*", Condition={"StringEqualsIfExists": {"s3:prefix": "a/"}}))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "Allow")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "b/"}), "ImplicitDeny")
        p = pol(allow("s3:GetObject", B + "/*", Condition={"Null": {"s3:prefix": "false"}}))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k"), "ImplicitDeny")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "b/"}), "Allow")

    def test_set_qualifiers(self):
        c = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "name"]}}
        p = pol(allow("dynamodb:GetItem", "*", Condition=c))
        self.assertEqual(decide([p], "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["id"]}), "Allow")
        self.assertEqual(decide([p], "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["id", "pw"]}),
                         "ImplicitDeny")
        c = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["pw"]}}
        p = pol(allow("dynamodb:GetItem", "*", Condition=c))
        self.assertEqual(decide([p], "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["id", "pw"]}), "Allow")
        self.assertEqual(decide([p], "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["id"]}), "ImplicitDeny")

    def test_policy_variables(self):
        p = pol(allow("s3:GetObject", B + "/private/${aws:userid}/*"))
        self.assertEqual(decide([p], "s3:GetObject", B + "/private/u1/k", {"aws:userid": "u1"}), "Allow")
        self.assertEqual(decide([p], "s3:GetObject", B + "/private/u2/k", {"aws:userid": "u1"}), "ImplicitDeny")
        self.assertEqual(decide([p], "s3:GetObject", B + "/private//k"), "ImplicitDeny",
                         "a missing variable matches nothing")
        p = pol(allow("s3:GetObject", B + "/*", Condition={"StringLike": {"s3:prefix": "a${*}b"}}))
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "a*b"}), "Allow")
        self.assertEqual(decide([p], "s3:GetObject", B + "/k", {"s3:prefix": "axb"}), "ImplicitDeny",
                         "${*} is a literal star")

    def test_unknown_operator_refused(self):
        p = pol(allow("s3:GetObject", "*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}))
        with self.assertRaises(E.EvalError):
            decide([p], "s3:GetObject", B)


class ResourcePolicies(unittest.TestCase):
    ROLE = "arn:aws:iam::%s:role/r" % A

    def test_principal(self):
        rp = pol(allow("sqs:SendMessage", Q1, Principal={"AWS": self.ROLE}))
        self.assertEqual(decide([], "sqs:SendMessage", Q1, resource_docs=[rp], role_arn=self.ROLE), "Allow")
        other = "arn:aws:iam::%s:role/other" % A
        self.assertEqual(decide([], "sqs:SendMessage", Q1, resource_docs=[rp], role_arn=other), "ImplicitDeny")
        sp = pol(allow("sqs:SendMessage", Q1, Principal={"Service": "sns.amazonaws.com"}))
        self.assertEqual(decide([], "sqs:SendMessage", Q1, resource_docs=[sp], role_arn=self.ROLE),
                         "ImplicitDeny", "a service principal is not the role")

    def test_resource_deny_beats_identity_allow(self):
        rp = pol(deny("s3:*", B + "/*", Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
        ip = pol(allow("s3:GetObject", B + "/*"))
        self.assertEqual(decide([ip], "s3:GetObject", B + "/k", {"aws:SecureTransport": "false"},
                                resource_docs=[rp], role_arn=self.ROLE), "Deny")
        self.assertEqual(decide([ip], "s3:GetObject", B + "/k", resource_docs=[rp], role_arn=self.ROLE), "Allow")


class ServicePrincipals(unittest.TestCase):
    def test_queue_policy_source_arn(self):
        topic = "arn:aws:sns:%s:%s:alerts" % (R, A)
        rp = pol(allow("sqs:SendMessage", Q1, Principal={"Service": "sns.amazonaws.com"},
                       Condition={"ArnEquals": {"aws:SourceArn": topic}}))
        d = lambda who, ctx: decide([], "sqs:SendMessage", Q1, ctx, resource_docs=[rp], role_arn=who)
        self.assertEqual(d("service:sns.amazonaws.com", {"aws:SourceArn": topic}), "Allow")
        self.assertEqual(d("service:sns.amazonaws.com", {"aws:SourceArn": topic + "x"}), "ImplicitDeny")
        self.assertEqual(d("service:sns.amazonaws.com", {}), "ImplicitDeny")
        self.assertEqual(d("service:events.amazonaws.com", {"aws:SourceArn": topic}), "ImplicitDeny")

    def test_lambda_permission(self):
        t = E.Template({"Resources": {
            "Fn": {"Type": "AWS::Lambda::Function"},
            "Api": {"Type": "AWS::ApiGatewayV2::Api"},
            "P": {"Type": "AWS::Lambda::Permission", "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                         "${AWS::AccountId}:${Api}/*/GET/x"}}}}})
        ev = E.Evaluator(t)
        fn, api = t.arn("Fn"), t.arn("Api")
        svc = "service:apigateway.amazonaws.com"
        self.assertEqual(ev.decide(svc, "lambda:InvokeFunction", fn, {"aws:SourceArn": api + "/$default/GET/x"}),
                         "Allow")
        self.assertEqual(ev.decide(svc, "lambda:InvokeFunction", fn, {"aws:SourceArn": api + "/$default/POST/x"}),
                         "ImplicitDeny")
        self.assertEqual(ev.decide(svc, "lambda:InvokeFunction", fn), "ImplicitDeny")
        self.assertEqual(ev.decide(svc, "lambda:UpdateFunctionCode", fn, {"aws:SourceArn": api + "/$default/GET/x"}),
                         "ImplicitDeny")
        self.assertEqual(ev.decide("service:events.amazonaws.com", "lambda:InvokeFunction", fn,
                                   {"aws:SourceArn": api + "/$default/GET/x"}), "ImplicitDeny")


def template():
    return E.Template({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Metadata": {"synth:path": "q/Queue"}},
        "F": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "f.fifo", "FifoQueue": True}},
        "T": {"Type": "AWS::SNS::Topic"},
        "D": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "items"}},
        "S": {"Type": "AWS::S3::Bucket", "Metadata": {"synth:path": "media/Bucket"}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-events"}}},
        "Api": {"Type": "AWS::ApiGatewayV2::Api"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}},
               "Metadata": {"synth:path": "fn/Resource"}},
        "Role": {"Type": "AWS::IAM::Role", "Metadata": {"synth:path": "fn/ServiceRole"},
                 "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": pol(
                     allow("sqs:SendMessage", {"Fn::GetAtt": ["Q", "Arn"]}))}]}},
        "Pol": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "Role"}], "PolicyDocument": pol(
                allow("dynamodb:Query", {"Fn::Join": ["", [{"Fn::GetAtt": ["D", "Arn"]}, "/index/*"]]}),
                allow("execute-api:Invoke", {"Fn::Sub": [
                    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/$default/POST/x",
                    {"Api": {"Ref": "Api"}}]}),
                deny("s3:PutObject", {"Fn::Sub": "${S.Arn}/locked/*"}))}},
        "Other": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "SomeoneElse"}], "PolicyDocument": pol(allow("*", "*"))}},
        "BP": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "S"}, "PolicyDocument": pol(
            allow("s3:GetObject", {"Fn::Sub": "${S.Arn}/*"}, Principal={"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}))}},
    }})


class TemplateResolution(unittest.TestCase):
    def test_arns(self):
        t = template()
        p = "arn:aws:%s:" + R + ":" + A + ":"
        self.assertRegex(t.arn("q/Queue"), "^" + p % "sqs" + r"[^:/]*Q[^:/]*$")
        self.assertEqual(t.ref("Q"), "https://sqs.%s.amazonaws.com/%s/%s" % (R, A, t.arn("Q").rsplit(":", 1)[1]))
        self.assertEqual(t.arn("F"), p % "sqs" + "f.fifo")
        self.assertEqual(t.ref("T"), t.getatt("T", "TopicArn"))
        self.assertTrue(t.arn("T").startswith(p % "sns"))
        self.assertEqual(t.arn("D"), p % "dynamodb" + "table/items")
        self.assertEqual(t.ref("D"), "items")
        self.assertTrue(t.getatt("D", "StreamArn").startswith(p % "dynamodb" + "table/items/stream/"))
        self.assertRegex(t.arn("media/Bucket"), r"^arn:aws:s3:::[a-z0-9.-]{3,63}$")
        self.assertEqual(t.arn("media/Bucket"), "arn:aws:s3:::" + t.ref("S"))
        self.assertEqual(t.arn("Bus"), p % "events" + "event-bus/" + E.STACK + "-events")
        self.assertEqual(t.ref("Bus"), E.STACK + "-events")
        self.assertEqual(t.arn("Fn"), p % "lambda" + "function:" + t.ref("Fn"))
        self.assertEqual(t.arn("Api"), p % "execute-api" + t.ref("Api"))
        self.assertEqual(t.arn("Role"), "arn:aws:iam::%s:role/%s" % (A, t.ref("Role")))
        self.assertNotEqual(t.arn("Q"), t.arn("F"))
        r = E.Template({"Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}},
            "R1": {"Type": "AWS::Events::Rule", "Properties": {"Name": "r1", "EventBusName": {"Ref": "Bus"}}},
            "R2": {"Type": "AWS::Events::Rule", "Properties": {"Name": "r2"}}}})
        self.assertEqual(r.arn("R1"), p % "events" + "rule/b/r1", "a rule on a custom bus: rule/BUS/NAME")
        self.assertEqual(r.arn("R2"), p % "events" + "rule/r2", "on the default bus: rule/NAME")

    def test_sub_escape_and_unknown(self):
        t = template()
        self.assertEqual(t.resolve({"Fn::Sub": "a${!Literal}b"}), "a${Literal}b")
        self.assertEqual(t.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}), "b")
        with self.assertRaises(E.EvalError):
            t.resolve({"Ref": "Nope"})
        with self.assertRaises(E.EvalError):
            t.resolve({"Fn::GetAtt": ["Q", "Nope"]})

    def test_role_policies_and_decisions(self):
        t = template()
        ev = E.Evaluator(t)
        self.assertEqual(len(t.identity_policies("fn")), 2, "inline + the attached AWS::IAM::Policy only")
        self.assertEqual(ev.decide("fn", "sqs:SendMessage", t.arn("Q")), "Allow")
        self.assertEqual(ev.decide("fn", "sqs:SendMessage", t.arn("F")), "ImplicitDeny")
        self.assertEqual(ev.decide("fn", "dynamodb:Query", t.arn("D") + "/index/byOwner"), "Allow")
        self.assertEqual(ev.decide("fn", "dynamodb:Query", t.arn("D")), "ImplicitDeny")
        api = t.arn("Api")
        self.assertEqual(ev.decide("fn", "execute-api:Invoke", api + "/$default/POST/x"), "Allow")
        self.assertEqual(ev.decide("fn", "execute-api:Invoke", api + "/$default/GET/x"), "ImplicitDeny")
        b = t.arn("media/Bucket")
        self.assertEqual(ev.decide("fn", "s3:GetObject", b + "/k"), "Allow", "through the bucket policy")
        self.assertEqual(ev.decide("fn", "s3:PutObject", b + "/locked/k"), "Deny")
        self.assertEqual(ev.decide("fn/ServiceRole", "sqs:SendMessage", t.arn("Q")), "Allow",
                         "the role by its construct path")

    def test_cases_and_expand(self):
        t = template()
        self.assertEqual(E.expand(t, "{q/Queue}/x"), t.arn("Q") + "/x")
        self.assertEqual(E.expand(t, "{D.StreamArn}"), t.getatt("D", "StreamArn"))
        self.assertEqual(E.expand(t, "{D!ref}"), "items")
        import io
        out = io.StringIO()
        p, f = E.run_cases(t, [
            "fn allow sqs:SendMessage {q/Queue}   # comment",
            "fn deny  sqs:SendMessage {F}",
            "fn allow sqs:SendMessage {F}",
            "fn deny  s3:PutObject {S}/locked/k",
        ], out)
        self.assertEqual((p, f), (3, 1), out.getvalue())
        self.assertIn("not ok - fn may sqs:SendMessage on", out.getvalue())


if __name__ == "__main__":
    unittest.main(verbosity=1)
