"""Near-miss files a good scanner stays quiet on, each themed on one provider (so negatives are
spread over the families as the positives are). `make(kind, rng, spec)` returns
(filename, text, why)."""

import base64

import keys
import render
from render import S, Ctx, place
from spec import ALNUM, B64, DIGITS, HEX, LALNUM, UALNUM, Ctx as CtxGen, Tok, Uuid, rand, uuid

KINDS = ["placeholder", "code_ref", "repeated", "hash_ctx", "uuid_id", "non_secret_name", "random_id",
         "public_key", "doc_example", "broken_checksum"]


def applicable(kind, spec):
    v = spec["value"]
    if kind == "repeated":
        return isinstance(v, (Tok, Uuid)) and not spec["url"]
    if kind == "broken_checksum":
        return getattr(v, "checksum", None) in ("github-crc32", "npm-crc32")
    return True


def _ctx(rng, spec, name=None):
    return Ctx(rng, spec, name or spec["names"][0])


def _single(rng, spec, value, name=None, renderers=None, neutral=False):
    c = _ctx(rng, spec, name)
    c.neutral = neutral
    fn = rng.choice(renderers or render.SINGLE)
    fname, lines = fn(c)
    text, _ = place(lines, value)
    return fname, text


def _length(rng, spec):
    v = spec["value"]
    try:
        return len(v.make(rng)) if not v.multiline else 40
    except Exception:
        return 40


def placeholder(rng, spec):
    c = _ctx(rng, spec)
    n = c.n
    L = min(_length(rng, spec), 64)
    pre = spec["value"].literal_prefix if not spec["value"].multiline else ""
    choices = ["x" * L, "X" * L, "<your-token>", f"<{n.upper}>", "${" + n.upper + "}", "{{ " + n.snake + " }}",
               "{{ .Values." + n.camel + " }}", "changeme", "your_api_key_here", "REPLACE_ME", "********",
               f"YOUR_{n.upper}", "%(" + n.snake + ")s", "insert-key-here", "<redacted>", "dummy", "TODO",
               "${{ secrets." + n.upper + " }}", "#{" + n.upper + "}#", "@@" + n.upper + "@@"]
    if pre and len(pre) >= 3:
        choices += [pre + "...", pre + "<token>", pre + "*" * max(8, L - len(pre)), pre + "xxxxxxxxxxxxxxxx"]
    value = rng.choice(choices)
    fname, text = _single(rng, spec, value)
    return fname, text, f"placeholder value {value[:40]!r}"


def repeated(rng, spec):
    value = spec["value"].repeated(rng)
    fname, text = _single(rng, spec, value)
    return fname, text, "right prefix and length, but repeated or sequential characters"


def broken(rng, spec):
    value = spec["value"].broken(rng)
    fname, text = _single(rng, spec, value)
    return fname, text, "format with a checksum whose checksum does not verify"


def code_ref(rng, spec):
    c = _ctx(rng, spec)
    n = c.n
    st = rng.randrange(11)
    if st == 0:
        return "settings.py", "\n".join(["import os", "", f'{n.upper} = os.environ["{n.upper}"]',
                                         f'TIMEOUT = int(os.getenv("HTTP_TIMEOUT", "30"))']) + "\n", "os.environ lookup"
    if st == 1:
        return "config.js", "\n".join(["module.exports = {", f"  {n.camel}: process.env.{n.upper},",
                                       "  port: Number(process.env.PORT || 3000),", "};"]) + "\n", "process.env lookup"
    if st == 2:
        return "config.go", "\n".join(["package config", "", 'import "os"', "", "func Load() Config {",
                                       f'\treturn Config{{Token: os.Getenv("{n.upper}")}}', "}"]) + "\n", "os.Getenv"
    if st == 3:
        return "Settings.java", "\n".join(["public final class Settings {",
                                           f'    static final String {n.upper} = System.getenv("{n.upper}");',
                                           "}"]) + "\n", "System.getenv"
    if st == 4:
        return "initializer.rb", "\n".join([f"{n.section.capitalize()}.configure do |config|",
                                            f"  config.{n.leaf_snake} = ENV.fetch('{n.upper}')",
                                            "end"]) + "\n", "ENV.fetch"
    if st == 5:
        return "deployment.yaml", "\n".join(["          env:", f"            - name: {n.upper}",
                                             "              valueFrom:", "                secretKeyRef:",
                                             f"                  name: {c.svc}-credentials",
                                             f"                  key: {n.kebab}"]) + "\n", "k8s secretKeyRef"
    if st == 6:
        return ".github/workflows/release.yml", "\n".join(["jobs:", "  release:", "    runs-on: ubuntu-latest",
                                                           "    env:", f"      {n.upper}: ${{{{ secrets.{n.upper} }}}}",
                                                           "    steps:", "      - run: make release"]) + "\n", \
            "GitHub Actions secrets reference"
    if st == 7:
        return "main.tf", "\n".join([f'provider "{n.section}" {{', f"  {n.leaf_snake} = var.{n.snake}", "}"]) + "\n", \
            "Terraform variable reference"
    if st == 8:
        return "Startup.cs", "\n".join([f'var {n.camel} = builder.Configuration["{n.section.capitalize()}:{n.pascal}"];',
                                        f'var fallback = Environment.GetEnvironmentVariable("{n.upper}");']) + "\n", \
            "configuration lookup"
    if st == 9:
        return "services.php", "\n".join(["<?php", "return [", f"    '{n.section}' => ['{n.leaf_snake}' => env('{n.upper}')],",
                                          "];"]) + "\n", "env() lookup"
    return "client.py", "\n".join(["from app.secrets import get_secret", "",
                                   f'{n.snake} = get_secret("prod/{c.svc}/{n.kebab}")',
                                   f"client = Client(api_key=config.{n.snake}, timeout=10)"]) + "\n", \
        "secret-manager call and config attribute"


def _pkg(spec):
    return spec["provider"].split("-")[0]


def hash_ctx(rng, spec):
    p = _pkg(spec)
    st = rng.randrange(6)
    if st == 0:
        def entry(name, ver):
            integ = base64.b64encode(bytes(rng.randrange(256) for _ in range(64))).decode()
            return [f'    "node_modules/{name}": {{', f'      "version": "{ver}",',
                    f'      "resolved": "https://registry.npmjs.org/{name}/-/{name.split("/")[-1]}-{ver}.tgz",',
                    f'      "integrity": "sha512-{integ}"', "    }"]
        lines = ["{", f'  "name": "{p}-integration",', '  "lockfileVersion": 3,', '  "packages": {']
        lines += entry(f"@{p}/sdk", "3.4.1")[:-1] + ["    },"] + entry("axios", "1.7.2")
        lines += ["  }", "}"]
        return "package-lock.json", "\n".join(lines) + "\n", "sha512 integrity hashes in a lockfile"
    if st == 1:
        lines = [f"{rand(rng, HEX, 64)}  {p}-cli_2.{i}.0_{osn}.tar.gz" for i, osn in
                 enumerate(["linux_amd64", "linux_arm64", "darwin_arm64", "windows_amd64"])]
        return "SHA256SUMS", "\n".join(lines) + "\n", "sha256 checksums of release archives"
    if st == 2:
        lines = [f"# Changelog", "", "## 2.4.0", ""]
        for msg in [f"Retry {p} API calls on 429", "Bump dependencies", f"Fix pagination of {p} exports"]:
            full = rand(rng, HEX, 40)
            lines.append(f"- {msg} ([{full[:7]}](https://github.com/acme/{p}-sync/commit/{full}))")
        return "CHANGELOG.md", "\n".join(lines) + "\n", "git commit ids in a changelog"
    if st == 3:
        lines = [f"github.com/{p}/{p}-go v1.{i}.0 h1:{base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()}"
                 for i in range(3)]
        return "go.sum", "\n".join(lines) + "\n", "go.sum module hashes"
    if st == 4:
        lines = ["[[package]]", f'name = "{p}-client"', 'version = "0.9.3"',
                 'source = "registry+https://github.com/rust-lang/crates.io-index"',
                 f'checksum = "{rand(rng, HEX, 64)}"', "", "[[package]]", 'name = "serde"', 'version = "1.0.210"',
                 'source = "registry+https://github.com/rust-lang/crates.io-index"',
                 f'checksum = "{rand(rng, HEX, 64)}"']
        return "Cargo.lock", "\n".join(lines) + "\n", "Cargo.lock checksums"
    sha = rand(rng, HEX, 64)
    lines = ["FROM debian:bookworm-slim", f"ARG {p.upper()}_CLI_VERSION=2.4.0", f"ARG {p.upper()}_CLI_SHA256={sha}",
             f"RUN curl -fsSLo /tmp/cli.tgz https://downloads.{p}.com/cli/${{{p.upper()}_CLI_VERSION}}/cli.tgz \\",
             f'    && echo "${{{p.upper()}_CLI_SHA256}}  /tmp/cli.tgz" | sha256sum -c -']
    return "Dockerfile", "\n".join(lines) + "\n", "sha256 of a download in a Dockerfile"


def uuid_id(rng, spec):
    p, host = _pkg(spec), spec["host"]
    st = rng.randrange(4)
    u = lambda: uuid().make(rng)
    if st == 0:
        lines = [f"2026-11-0{i + 1}T10:1{i}:0{i}Z INFO {p}.client request_id={u()} trace_id={rand(rng, HEX, 32)} "
                 f"span_id={rand(rng, HEX, 16)} status=200 path=/v1/items duration_ms={rng.randint(20, 400)}"
                 for i in range(4)]
        return "app.log", "\n".join(lines) + "\n", "request, trace and span ids in a log"
    if st == 1:
        lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"X-Request-Id: {u()}",
                 f"X-Correlation-Id: {u()}", f"Date: Tue, 03 Nov 2026 10:12:00 GMT", "", '{"ok": true}']
        return "response.http", "\n".join(lines) + "\n", "request ids in a captured HTTP response"
    if st == 2:
        lines = ["{", f'  "id": "{u()}",', '  "object": "event",', f'  "request_id": "{u()}",',
                 f'  "idempotency_key": "{u()}",', f'  "source": "{host}"', "}"]
        return "event.json", "\n".join(lines) + "\n", "object, request and idempotency ids"
    lines = ["order_id,customer_id,total,currency"] + [f"{u()},{u()},{rng.randint(5, 900)}.{rng.randint(10, 99)},EUR"
                                                       for _ in range(4)]
    return "orders_export.csv", "\n".join(lines) + "\n", "UUID row ids in a CSV export"


_SUFFIXES = ["WORKSPACE_ID", "PROJECT_ID", "ACCOUNT_ID", "ORG_ID", "PRICE_ID", "TEAM_ID", "APP_ID", "TENANT_ID",
             "CUSTOMER_ID", "PLAN_ID", "LIST_ID", "CHANNEL_ID", "WEBHOOK_ID", "TEMPLATE_ID", "ZONE_ID", "SITE_ID"]


def non_secret_name(rng, spec):
    c = _ctx(rng, spec)
    base = c.n.section.upper() if len(c.n.w) > 1 and c.n.section not in ("api", "client", "access", "secret",
                                                                            "private", "app", "auth") \
        else _pkg(spec).upper().replace(".", "")
    name = f"{base}_{rng.choice(_SUFFIXES)}"
    v = spec["value"]
    if spec.get("objid") is not None:
        value = spec["objid"].make(rng)
    elif isinstance(v, (CtxGen, Uuid)) and not spec["url"] and not v.literal_prefix:
        value = v.make(rng)
    else:
        value = rng.choice([lambda: rand(rng, DIGITS, rng.randint(10, 16)), lambda: uuid().make(rng),
                            lambda: rand(rng, HEX, 24), lambda: rand(rng, UALNUM, 11)])()
    fname, text = _single(rng, spec, value, name=name, neutral=True)
    return fname, text, f"non-secret identifier under {name}"


def random_id(rng, spec):
    p = _pkg(spec)
    st = rng.randrange(5)
    if st == 0:
        lines = ["{", f'  "etag": "W/\\"{rand(rng, HEX, 40)}\\"",', f'  "build_id": "{rand(rng, HEX, 40)}",',
                 f'  "pipeline_id": {rng.randint(10**8, 10**9)},', f'  "artifact": "{p}-worker-{rand(rng, HEX, 12)}.tar.gz"', "}"]
        return "build-info.json", "\n".join(lines) + "\n", "etag and build ids"
    if st == 1:
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(90))
        lines = [".logo {", f"  background-image: url(data:image/png;base64,{base64.b64encode(png).decode()});",
                 f"  color: #{rand(rng, HEX, 6)};", f"  border-color: #{rand(rng, HEX, 6)};", "}"]
        return "styles.css", "\n".join(lines) + "\n", "inline base64 image and CSS colours"
    if st == 2:
        lines = ["apiVersion: apps/v1", "kind: Deployment", "spec:", "  template:", "    spec:", "      containers:",
                 f"        - name: {p}-sync", f"          image: ghcr.io/acme/{p}-sync@sha256:{rand(rng, HEX, 64)}",
                 f"        - name: proxy", f"          image: envoyproxy/envoy@sha256:{rand(rng, HEX, 64)}"]
        return "deployment.yaml", "\n".join(lines) + "\n", "container image digests"
    if st == 3:
        lines = ["{", ' "cells": [', "  {", '   "cell_type": "code",', f'   "id": "{rand(rng, HEX, 8)}",',
                 f'   "metadata": {{"execution": {{"iopub.execute_input": "2026-11-03T10:12:00.{rng.randint(100, 999)}Z"}}}},',
                 f'   "source": ["df = load_{p}_export()"]', "  }", " ],",
                 f' "metadata": {{"widgets": {{"model_id": "{rand(rng, HEX, 32)}"}}}}', "}"]
        return "analysis.ipynb", "\n".join(lines) + "\n", "notebook cell and widget ids"
    lines = [f"<!-- {p} embed -->", f'<div id="{p}-widget" data-instance="{rand(rng, HEX, 32)}"',
             f'     data-nonce="{rand(rng, B64, 24)}" data-version="{rand(rng, HEX, 7)}"></div>']
    return "embed.html", "\n".join(lines) + "\n", "widget instance ids and nonce"


def public_key(rng, spec):
    c = _ctx(rng, spec)
    if spec.get("public") is not None and rng.randrange(2) == 0:
        value = spec["public"].make(rng)
        name = rng.choice([f"{c.n.section.upper()}_PUBLISHABLE_KEY", f"{c.n.section.upper()}_PUBLIC_KEY",
                           f"NEXT_PUBLIC_{c.n.section.upper()}_KEY"])
        fname, text = _single(rng, spec, value, name=name, neutral=True)
        return fname, text, "the provider's public (publishable/site) key"
    st = rng.randrange(4)
    comment = f"{c.svc}@{rng.choice(['bastion', 'ci-runner', 'laptop-ana', 'build-7'])}"
    if st == 0:
        pem = keys.rsa_public_pem(rng) if rng.randrange(3) == 0 else keys.ec_public_pem(rng)
        lines = [f"# public key {spec['provider']} signs its webhooks with", pem]
        return "webhook_public_key.pem", "\n".join(lines) + "\n", "PEM public key"
    if st == 1:
        lines = [keys.ssh_ed25519_public(rng, comment), keys.ssh_ed25519_public(rng, comment.replace("@", "2@"))]
        return "authorized_keys", "\n".join(lines) + "\n", "ssh public keys"
    if st == 2:
        pub = keys.ssh_rsa_public(rng, comment) if rng.randrange(3) == 0 else keys.ssh_ed25519_public(rng, comment)
        lines = ["users:", f"  - name: {c.svc}", "    ssh_authorized_keys:", f"      - {pub}"]
        return "cloud-init.yaml", "\n".join(lines) + "\n", "ssh public key in cloud-init"
    pem = keys.ec_public_pem(rng)
    lines = [f"{c.n.section}:", "  webhook_verification_key: |"] + ["    " + l for l in pem.splitlines()]
    return "config.yaml", "\n".join(lines) + "\n", "PEM public key in YAML"


AWS_EXAMPLES = [("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                ("aws_access_key_id", "AKIAI44QH8DHBEXAMPLE"),
                ("aws_secret_access_key", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY")]


def _exampled(rng, value):
    """A documentation-style example: a real-looking value whose tail reads EXAMPLE (AWS's convention)."""
    word = "example" if value[-8:] == value[-8:].lower() else "EXAMPLE"
    if len(value) < 16:
        return value[:-len(word)] + word if len(value) > len(word) + 2 else value + word
    return value[:-len(word) - 3] + word + value[-3:] if rng.randrange(2) else value[:-len(word)] + word


def doc_example(rng, spec):
    c = _ctx(rng, spec)
    if spec["provider"] == "aws":
        name, value = rng.choice(AWS_EXAMPLES)
        fname, text = _single(rng, spec, value, name=name)
        return fname, text, "AWS documentation example key"
    n = c.n
    v = spec["value"]
    title = spec["provider"].replace("-", " ").title()
    if not v.multiline and rng.randrange(2):
        value = _exampled(rng, v.make(rng))
        shown = spec["url"].format(s=value) if spec["url"] else value
        lines = [f"## Configuring {title}", "", f"Set `{n.upper}` in the environment. The value below is the",
                 "example from the provider's guide and does not work:", "", "```sh", f"export {n.upper}={shown}",
                 "```"]
        return rng.choice(["README.md", "docs/setup.md", "CONTRIBUTING.md"]), "\n".join(lines) + "\n", \
            "documentation example value (ends in EXAMPLE)"
    pre = v.literal_prefix
    hint = f" (it starts with `{pre}`)" if pre and len(pre) >= 3 and not v.multiline else ""
    st = rng.randrange(2)
    if st == 0:
        lines = [f"# {c.svc}", "", f"Needs a {title} credential{hint}. Export it before starting the service:", "",
                 "```sh", f"export {n.upper}=<paste your key here>", f"./bin/{c.svc} --check", "```", "",
                 f"In CI, store it as the `{n.upper}` secret; never commit it."]
    else:
        lines = ["| Variable | Required | Example |", "|---|---|---|", f"| `{n.upper}` | yes | `your-{n.kebab}` |",
                 "| `LOG_LEVEL` | no | `info` |", "| `PORT` | no | `8080` |"]
    return rng.choice(["README.md", "docs/configuration.md"]), "\n".join(lines) + "\n", \
        "documentation with a placeholder"


MAKERS = dict(placeholder=placeholder, code_ref=code_ref, repeated=repeated, hash_ctx=hash_ctx, uuid_id=uuid_id,
              non_secret_name=non_secret_name, random_id=random_id, public_key=public_key, doc_example=doc_example,
              broken_checksum=broken)


def make(kind, rng, spec):
    return MAKERS[kind](rng, spec)
