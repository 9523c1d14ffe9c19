#!/usr/bin/env python3
"""Validates model introspection files (from test/gql/gen) as the
data.model_introspection of an amplify_outputs.json, against the published
schema (schema_v1.5.json), and against test/gql/model_introspection.schema.json
(the shape Amplify's client libraries read, written from its documented
format). Prints one line per file: "FILE: ok" or "FILE: error: ...".
Usage: check_introspection.py AMPLIFY_OUTPUTS_SCHEMA FILE.json..."""
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
outputs_schema = json.load(open(sys.argv[1]))
intro_schema = json.load(open(os.path.join(here, "model_introspection.schema.json")))
outputs = jsonschema.Draft202012Validator(outputs_schema)
intro = jsonschema.Draft202012Validator(intro_schema)
failed = 0
for path in sys.argv[2:]:
    mi = json.load(open(path))
    doc = {
        "version": "1.5",
        "data": {
            "aws_region": "us-east-1",
            "url": "https://example.appsync-api.us-east-1.amazonaws.com/graphql",
            "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
            "authorization_types": [],
            "model_introspection": mi,
        },
    }
    errors = [f"amplify_outputs: {e.message} at {list(e.absolute_path)}" for e in outputs.iter_errors(doc)]
    errors += [f"introspection: {e.message} at {list(e.absolute_path)}" for e in intro.iter_errors(mi)]
    # every model, enum and nonModel a field names exists
    for kind, group in (("model", "models"), ("enum", "enums"), ("nonModel", "nonModels")):
        for owner in list(mi.get("models", {}).values()) + list(mi.get("nonModels", {}).values()):
            for f in owner["fields"].values():
                t = f["type"]
                if isinstance(t, dict) and kind in t and t[kind] not in mi[group]:
                    errors.append(f"{owner['name']}.{f['name']}: unknown {kind} {t[kind]}")
    # field keys match their names; association targets exist on the model
    for m in mi.get("models", {}).values():
        for k, f in m["fields"].items():
            if k != f["name"]:
                errors.append(f"{m['name']}: field key {k} names {f['name']}")
            a = f.get("association")
            if a:
                for t in a.get("targetNames", []):
                    if t not in m["fields"]:
                        errors.append(f"{m['name']}.{k}: targetName {t} is not a field")
                if a["connectionType"] == "HAS_MANY":
                    related = mi["models"][f["type"]["model"]]
                    for w in a["associatedWith"]:
                        if w not in related["fields"] and w not in m["fields"]:
                            errors.append(f"{m['name']}.{k}: associatedWith {w} is not a field")
        pk = m["primaryKeyInfo"]
        for n in [pk["primaryKeyFieldName"]] + pk["sortKeyFieldNames"]:
            if n not in m["fields"]:
                errors.append(f"{m['name']}: key field {n} is not a field")
    if errors:
        failed += 1
        for e in errors:
            print(f"{path}: error: {e}")
    else:
        print(f"{path}: ok")
sys.exit(1 if failed else 0)
