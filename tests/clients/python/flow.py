"""The Python SDK's (pulumi-esc-sdk) flow against `escc serve`, run by tests/it/serve.rs.

Reads PULUMI_BACKEND_URL and PULUMI_ACCESS_TOKEN as the SDK does, and ESCC_ORG; prints
one JSON object of what each call returned (the test asserts on it).
"""

import json
import os

import pulumi_esc_sdk as esc

ORG = os.environ["ESCC_ORG"]
out = {}


def failure(call):
    try:
        call()
    except esc.ApiException as e:
        return {"status": e.status, "body": json.loads(e.body)}
    return None


client = esc.esc_client.default_client()
envs = client.list_environments(ORG)
out["list"] = [
    [e.organization, e.project, e.name, bool(e.created), bool(e.modified)]
    for e in envs.environments
]
_definition, raw = client.get_environment(ORG, "app", "dev")
out["get"] = raw.decode()

environment, values, _raw = client.open_and_read_environment(ORG, "app", "dev")
out["values"] = values
out["password_is_secret"] = environment.properties["db"].value["password"]["secret"]

opened = client.open_environment(ORG, "app", "dev")
value, resolved = client.read_open_environment_property(
    ORG, "app", "dev", opened.id, "db.password"
)
out["property"] = [resolved, value.secret, value.trace.var_def.environment]
_v, item = client.read_open_environment_property(ORG, "app", "dev", opened.id, "list[1]")
out["item"] = item

diagnostics = client.update_environment_yaml(
    ORG, "app", "dev", "imports:\n  - app/base\nvalues:\n  stage: updated\n"
)
out["update_diagnostics"] = diagnostics.diagnostics
_e, values, _raw = client.open_and_read_environment(ORG, "app", "dev")
out["after_update"] = values
# The session opened before the update still reads the revision it opened.
_e, values, _raw = client.read_open_environment(ORG, "app", "dev", opened.id)
out["old_session"] = values["db"]["host"]

out["bad_yaml"] = failure(
    lambda: client.update_environment_yaml(ORG, "app", "dev", "values: {a: [1, 2\n")
)
out["missing"] = failure(lambda: client.get_environment(ORG, "app", "nope"))
print(json.dumps(out, sort_keys=True))
