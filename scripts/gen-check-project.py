#!/usr/bin/env python3
"""Writes a deterministic escc project of N environments (default 1,000) for benchmarks.

    scripts/gen-check-project.py DIR [N]

The shape is that of a real organisation's environments (see docs/performance.md):

- `shared/base`: organisation-wide settings, imported (through the chains below) by all.
- `shared/aws/ACCOUNT` (4): an `fn::open::aws-login` with literal OIDC inputs and an
  `fn::open::aws-secrets` that uses it; a check validates them but opens no provider.
- `shared/observability`: logging and tracing settings, imported by a quarter of the
  services beside their team's environment.
- `shared/regions/REGION` (9): import the base.
- `teams/TEAM/common` (90): import a region and an AWS account.
- `teams/TEAM/SERVICE`: the rest, each importing its team's environment (an import chain
  four environments deep to the base), with `${...}` references through the chain,
  interpolations, `fn::secret` (age-shaped ciphertexts mostly, a few plaintext literals,
  which `allow-plaintext = true` in escc.toml keeps without warnings), `fn::toJSON`,
  `fn::concat`, `fn::join`, `fn::toString`, `environmentVariables`, `files` and
  `pulumiConfig`; 20 to 120 lines each.

Everything is derived from SHA-256 of fixed strings, so the output is the same on every
machine and Python version. A check of the result reports no diagnostics.
"""

import base64
import hashlib
import os
import sys


def h(*parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()


def num(*parts):
    return int.from_bytes(h(*parts)[:8], "big")


def b64(raw):
    return base64.b64encode(raw).decode()


def ciphertext(*parts):
    """A `ciphertext:` the shape and size of an age file for one X25519 recipient (escc
    checks the framing only; a check never decrypts)."""
    stanza = base64.b64encode(h("key", *parts)).decode().rstrip("=")
    body = base64.b64encode(h("body", *parts)).decode().rstrip("=")
    mac = base64.b64encode(h("mac", *parts)).decode().rstrip("=")
    payload = b"".join(h("payload", i, *parts) for i in range(2))[: 16 + 24 + 16]
    head = f"age-encryption.org/v1\n-> X25519 {stanza}\n{body}\n--- {mac}\n".encode()
    return b64(head + payload)


def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    written = 0

    def write(name, text):
        nonlocal written
        path = os.path.join(root, name + ".yaml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written += 1

    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "escc.toml"), "w", encoding="utf-8") as f:
        f.write(
            "[context.pulumi.user]\nlogin = \"bench\"\n"
            "[context.pulumi.organization]\nlogin = \"acme\"\n"
            "[encryption]\n# A few fixtures keep plaintext secrets on purpose.\n"
            "allow-plaintext = true\n"
        )

    write("shared/base", f"""# Organisation-wide settings.
values:
  org: ${{context.pulumi.organization.login}}
  owner: ${{context.pulumi.user.login}}
  domain: acme.example.com
  logging:
    level: info
    format: json
    sampling: 0.1
  database:
    port: 5432
    user: app
    sslmode: verify-full
    password:
      fn::secret:
        ciphertext: {ciphertext("base", "db")}
  smtp:
    host: smtp.acme.example.com
    port: 587
    password:
      fn::secret:
        ciphertext: {ciphertext("base", "smtp")}
  tags: [managed-by-escc, acme]
  features:
    newCheckout: false
    darkLaunch: true
    rateLimit: 1000
""")

    accounts = ["prod", "staging", "dev", "shared"]
    for a, account in enumerate(accounts):
        account_id = 100000000000 + num("account", a) % 900000000000
        write(f"shared/aws/{account}", f"""# AWS access for the {account} account.
values:
  aws:
    account: "{account_id}"
    login:
      fn::open::aws-login:
        oidc:
          roleArn: arn:aws:iam::{account_id}:role/esc-{account}
          sessionName: escc-{account}
          duration: 1h
    secrets:
      fn::open::aws-secrets:
        region: us-east-1
        login: ${{aws.login}}
        get:
          apiKey:
            secretId: {account}/api-key
          signingKey:
            secretId: {account}/signing-key
  environmentVariables:
    AWS_ACCESS_KEY_ID: ${{aws.login.accessKeyId}}
    AWS_SECRET_ACCESS_KEY: ${{aws.login.secretAccessKey}}
    AWS_SESSION_TOKEN: ${{aws.login.sessionToken}}
""")

    write("shared/observability", f"""imports:
  - shared/base
values:
  observability:
    otlpEndpoint: https://otel.${{domain}}:4317
    serviceNamePrefix: ${{org}}
    apiKey:
      fn::secret:
        ciphertext: {ciphertext("observability", "api")}
    sampleRatio: 0.25
  environmentVariables:
    OTEL_EXPORTER_OTLP_ENDPOINT: ${{observability.otlpEndpoint}}
    OTEL_TRACES_SAMPLER_ARG:
      fn::toString: ${{observability.sampleRatio}}
""")

    regions = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
               "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1"]
    for r, region in enumerate(regions):
        write(f"shared/regions/{region}", f"""imports:
  - shared/base
values:
  region: {region}
  endpoint: https://api.{region}.${{domain}}
  database:
    host: db.{region}.internal
    replicaHost: db-ro.{region}.internal
  cdn: https://cdn-{r}.${{domain}}
""")

    teams = 90
    for t in range(teams):
        region = regions[t % len(regions)]
        account = accounts[t % len(accounts)]
        plain = "" if t % 10 else """  fixturePassword:
    fn::secret: fixture-password-only-used-in-tests
"""
        write(f"teams/team-{t:02}/common", f"""imports:
  - shared/regions/{region}
  - shared/aws/{account}
values:
  team: team-{t:02}
  oncall: oncall-team-{t:02}@${{domain}}
  budget: {1000 + t}.50
  slack: "#team-{t:02}-alerts"
  labels:
    fn::toJSON:
      team: ${{team}}
      region: ${{region}}
      account: ${{aws.account}}
  teamToken:
    fn::secret:
      ciphertext: {ciphertext("team", t)}
{plain}""")

    services = max(n - written, 0)
    for s in range(services):
        t = s % teams
        size = num("size", s) % 4  # 0..3: how many of the optional blocks it has
        imports = f"  - teams/team-{t:02}/common\n"
        if s % 4 == 0:
            imports += "  - shared/observability\n"
        extra_vars = "".join(
            f"    FEATURE_{k}: ${{features.{f}}}\n"
            for k, f in enumerate(["newCheckout", "darkLaunch", "rateLimit"][: 1 + size % 3])
        )
        secrets = "".join(f"""  secret{k}:
    fn::secret:
      ciphertext: {ciphertext("service", s, k)}
""" for k in range(1 + size))
        queues = "".join(f"""    - name: service-{s:04}-queue-{k}
      url: https://sqs.${{region}}.amazonaws.com/${{aws.account}}/service-{s:04}-{k}
      visibilityTimeout: {30 * (k + 1)}
""" for k in range(size * 2))
        queues = f"  queues:\n{queues}" if queues else ""
        config = "" if size < 2 else f"""  pulumiConfig:
    aws:region: ${{region}}
    service:replicas: ${{replicas}}
    service:image: registry.${{domain}}/service-{s:04}:1.{s % 17}.{s % 5}
    service:dbPassword: ${{database.password}}
"""
        plaintext = "" if s % 50 else """  testOnlyToken:
    fn::secret: test-only-token-kept-in-plaintext
"""
        write(f"teams/team-{t:02}/service-{s:04}", f"""# service-{s:04}, owned by team-{t:02}.
imports:
{imports}values:
  service: service-{s:04}
  replicas: {1 + s % 5}
  port: {8000 + s % 100}
  url: https://${{service}}.${{region}}.${{domain}}
  database:
    name: db_{s:04}
  connection: postgres://${{database.user}}@${{database.host}}:${{database.port}}/${{database.name}}?sslmode=${{database.sslmode}}
  readonlyConnection: postgres://${{database.user}}@${{database.replicaHost}}:${{database.port}}/${{database.name}}
  allTags:
    fn::concat:
      - ${{tags}}
      - [service-{s:04}, team-{t:02}]
  hostList:
    fn::join:
      - ","
      - - ${{database.host}}
        - ${{database.replicaHost}}
{secrets}{queues}{plaintext}  environmentVariables:
    SERVICE: ${{service}}
    PORT:
      fn::toString: ${{port}}
    DATABASE_URL: ${{connection}}
    DATABASE_RO_URL: ${{readonlyConnection}}
    DATABASE_PASSWORD: ${{database.password}}
    SMTP_PASSWORD: ${{smtp.password}}
    LOG_LEVEL: ${{logging.level}}
    LOG_FORMAT: ${{logging.format}}
    TEAM_TOKEN: ${{teamToken}}
    API_KEY: ${{aws.secrets.apiKey}}
    REPLICAS:
      fn::toString: ${{replicas}}
{extra_vars}  files:
    SETTINGS:
      fn::toJSON:
        service: ${{service}}
        region: ${{region}}
        team: ${{team}}
        endpoint: ${{endpoint}}
        labels: ${{labels}}
{config}""")
    print(f"{written} environments in {root}")


main()
