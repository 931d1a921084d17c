"""File renderers: each writes a few plausible lines of code or configuration around one value.

A renderer is `fn(c) -> (filename, [lines])` where one line holds the marker `c.S`; the caller
puts the value there and records that line. `c` carries the provider, its API host, the name the
value is assigned to (in every naming style) and the RNG.
"""

import re

S = "\ue000"


def words(name):
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w.lower() for w in re.split(r"[_.\-:/ ]+", name) if w]


GENERIC = {"client", "access", "secret", "private", "api", "auth", "app", "token", "refresh", "application",
           "account", "consumer", "key", "password", "sas", "x", "master", "admin", "service", "server", "signing",
           "webhook", "database", "db", "connection", "personal", "bot", "user", "integration"}


class Name:
    def __init__(self, name, provider):
        self.raw = name
        self.w = words(name) or ["api", "key"]
        first = self.w[0]
        if len(self.w) > 1 and first not in GENERIC:
            self.section, self.leaf = first, self.w[1:]
        else:
            self.section, self.leaf = provider.split("-")[0].replace(".", ""), self.w

    @property
    def upper(self):
        return "_".join(self.w).upper()

    @property
    def snake(self):
        return "_".join(self.w)

    @property
    def camel(self):
        return self.w[0] + "".join(x.capitalize() for x in self.w[1:])

    @property
    def pascal(self):
        return "".join(x.capitalize() for x in self.w)

    @property
    def kebab(self):
        return "-".join(self.w)

    @property
    def dotted(self):
        return ".".join(self.w)

    @property
    def leaf_snake(self):
        return "_".join(self.leaf)

    @property
    def leaf_camel(self):
        return self.leaf[0] + "".join(x.capitalize() for x in self.leaf[1:])


class Ctx:
    def __init__(self, rng, spec, name):
        self.rng = rng
        self.spec = spec
        self.p = spec["provider"]
        self.host = spec["host"]
        self.n = Name(name, self.p)
        self.S = S
        self.neutral = False  # True: the value is not used as a credential in the surrounding code
        self.svc = rng.choice(["orders", "billing", "notifier", "ingest", "reports", "gateway",
                               "sync-worker", "webhooks", "search", "accounts", "exporter"])

    def pick(self, *xs):
        return self.rng.choice(xs)


ENV_FILL = [("LOG_LEVEL", "info"), ("PORT", "8080"), ("APP_ENV", "production"), ("NODE_ENV", "production"),
            ("REDIS_HOST", "cache.internal"), ("HTTP_TIMEOUT", "30"), ("WORKERS", "4"),
            ("REGION", "eu-west-1"), ("FEATURE_SEARCH", "true"), ("DB_HOST", "db.internal"),
            ("DB_PORT", "5432"), ("SENTRY_ENVIRONMENT", "prod"), ("TZ", "UTC"), ("CACHE_TTL", "300"),
            ("QUEUE_NAME", "jobs-default"), ("METRICS_PORT", "9102"), ("MAX_RETRIES", "5")]


def fill(c, k):
    return c.rng.sample(ENV_FILL, k)


def r_env(c):
    before, after = fill(c, c.rng.randint(2, 4)), fill(c, c.rng.randint(1, 3))
    lines = [f"# {c.svc} service"] + [f"{k}={v}" for k, v in before]
    q = c.pick("", '"', "'")
    lines.append(f"{c.n.upper}={q}{S}{q}")
    lines += [f"{k}={v}" for k, v in after if k not in dict(before)]
    return c.pick(".env", ".env.production", "app.env", "settings.env"), lines


def r_shell(c):
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", "",
             f'export APP_NAME="{c.svc}"', f"export {c.n.upper}=\"{S}\"", "",
             f'echo "starting {c.svc}"', f"exec ./bin/{c.svc} --config /etc/{c.svc}/config.yaml"]
    return c.pick("deploy.sh", "run.sh", "bootstrap.sh", "start-worker.sh"), lines


def r_python(c):
    st = c.rng.randrange(1 if c.neutral else 0, 3)
    if st == 0:
        lines = ["import logging", "import os", "", "import requests", "",
                 f'API_BASE = "https://{c.host}"', f'{c.n.upper} = "{S}"', "log = logging.getLogger(__name__)",
                 "", "", "def fetch(path, **params):",
                 f"    resp = requests.get(f\"{{API_BASE}}/{{path}}\", params=params, timeout=10,",
                 f"                        headers={{\"Authorization\": f\"Bearer {{{c.n.upper}}}\"}})",
                 "    resp.raise_for_status()", "    return resp.json()"]
        return c.pick("client.py", f"{c.svc.replace('-', '_')}.py", "api.py"), lines
    if st == 1:
        lines = ["from dataclasses import dataclass", "", "", "@dataclass", "class Settings:",
                 f'    service_name: str = "{c.svc}"', "    timeout: float = 15.0",
                 f'    {c.n.snake}: str = "{S}"', '    region: str = "eu-west-1"', "",
                 "", "settings = Settings()"]
        return c.pick("settings.py", "config.py", "conf.py"), lines
    lines = ["# Django settings for the integration", "DEBUG = False", "ALLOWED_HOSTS = [\"*\"]", "",
             f"{c.n.section.upper()} = {{", f'    "{c.n.leaf_snake.upper()}": "{S}",',
             f'    "BASE_URL": "https://{c.host}",', '    "TIMEOUT": 20,', "}"]
    return "settings_prod.py", lines


def r_js(c):
    st = 1 if c.neutral else c.rng.randrange(2)
    if st == 0:
        lines = ["'use strict';", "", "const axios = require('axios');", "",
                 f"const {c.n.camel} = '{S}';", f"const baseURL = 'https://{c.host}';", "",
                 "module.exports = axios.create({", "  baseURL,", "  timeout: 10000,",
                 f"  headers: {{ Authorization: `Bearer ${{{c.n.camel}}}` }},", "});"]
        return c.pick("client.js", "api.js", "lib/http.js"), lines
    lines = ["module.exports = {", f"  name: '{c.svc}',", "  port: 3000,", f"  {c.n.section}: {{",
             f"    {c.n.leaf_camel}: \"{S}\",", f"    endpoint: 'https://{c.host}',", "  },", "};"]
    return c.pick("config.js", "config/production.js"), lines


def r_ts(c):
    lines = ["import { Injectable } from '@nestjs/common';", "",
             "export const environment = {", "  production: true,", f"  apiUrl: 'https://{c.host}',",
             f"  {c.n.camel}: '{S}',", "  retries: 3,", "};", "", "@Injectable()",
             f"export class {c.n.section.capitalize()}Service {{}}"]
    return c.pick("environment.prod.ts", "src/config.ts"), lines


def r_go(c):
    const = c.n.camel.replace("Api", "API").replace("Id", "ID")
    st = 1 if c.neutral else c.rng.randrange(2)
    if st == 0:
        lines = ["package main", "", "import (", '\t"net/http"', '\t"time"', ")", "", "const (",
                 f'\tbaseURL = "https://{c.host}"', f'\t{const} = "{S}"', ")", "",
                 "func newRequest(path string) (*http.Request, error) {",
                 '\treq, err := http.NewRequest("GET", baseURL+path, nil)', "\tif err != nil {",
                 "\t\treturn nil, err", "\t}", f'\treq.Header.Set("Authorization", "Bearer "+{const})',
                 "\treturn req, nil", "}", "", "var client = &http.Client{Timeout: 10 * time.Second}"]
        return c.pick("main.go", "client.go"), lines
    lines = ["package config", "", 'import "os"', "", "func init() {",
             f'\tos.Setenv("{c.n.upper}", "{S}")', '\tos.Setenv("APP_ENV", "production")', "}"]
    return "config.go", lines


def r_java(c):
    cls = c.n.section.capitalize() + "Client"
    lines = [f"package com.example.{c.svc.replace('-', '')};", "", "import java.net.http.HttpClient;",
             "import java.time.Duration;", "", f"public class {cls} {{",
             f'    private static final String BASE_URL = "https://{c.host}";',
             f'    private static final String {c.n.upper} = "{S}";', "",
             "    private final HttpClient http = HttpClient.newBuilder()",
             "            .connectTimeout(Duration.ofSeconds(10)).build();", "}"]
    return f"{cls}.java", lines


def r_ruby(c):
    if c.rng.randrange(2):
        lines = [f"require '{c.n.section}'", "", f"{c.n.section.capitalize()}.configure do |config|",
                 f"  config.{c.n.leaf_snake} = '{S}'", "  config.timeout = 15", "end"]
        return c.pick(f"config/initializers/{c.n.section}.rb", "initializer.rb"), lines
    lines = ["# frozen_string_literal: true", "", f"ENV['{c.n.upper}'] ||= '{S}'",
             "ENV['RACK_ENV'] ||= 'production'", "", "require_relative 'app'"]
    return "boot.rb", lines


def r_php(c):
    if c.rng.randrange(2):
        lines = ["<?php", "", "return [", f"    '{c.n.section}' => [", f"        '{c.n.leaf_snake}' => '{S}',",
                 f"        'endpoint' => 'https://{c.host}',", "    ],", "];"]
        return "config/services.php", lines
    lines = ["<?php", f"define('{c.n.upper}', '{S}');", "define('APP_DEBUG', false);", "",
             "require __DIR__ . '/vendor/autoload.php';"]
    return c.pick("wp-config-extra.php", "bootstrap.php"), lines


def r_csharp(c):
    lines = ["using System.Net.Http;", "", f"namespace Example.{c.svc.replace('-', '').capitalize()}", "{",
             f"    public static class {c.n.section.capitalize()}Settings", "    {",
             f'        public const string BaseUrl = "https://{c.host}";',
             f'        public const string {c.n.pascal} = "{S}";', "    }", "}"]
    return f"{c.n.section.capitalize()}Settings.cs", lines


def r_k8s(c):
    if c.rng.randrange(2):
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {c.svc}-credentials",
                 "  namespace: production", "type: Opaque", "stringData:", f"  {c.n.upper}: \"{S}\""]
        return "secret.yaml", lines
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {c.svc}", "spec:",
             "  template:", "    spec:", "      containers:", f"        - name: {c.svc}",
             f"          image: registry.internal/{c.svc}:1.8.2", "          env:",
             "            - name: LOG_LEVEL", "              value: info",
             f"            - name: {c.n.upper}", f"              value: \"{S}\""]
    return "deployment.yaml", lines


def r_ci(c):
    if c.rng.randrange(2):
        lines = ["name: deploy", "on:", "  push:", "    branches: [main]", "jobs:", "  deploy:",
                 "    runs-on: ubuntu-latest", "    env:", f"      {c.n.upper}: {S}", "    steps:",
                 "      - uses: actions/checkout@v4", "      - run: make deploy"]
        return ".github/workflows/deploy.yml", lines
    lines = ["stages: [build, deploy]", "", "variables:", "  DOCKER_DRIVER: overlay2",
             f"  {c.n.upper}: \"{S}\"", "", "deploy:", "  stage: deploy", "  script:", "    - ./deploy.sh"]
    return ".gitlab-ci.yml", lines


def r_compose(c):
    lines = ["services:", f"  {c.svc}:", f"    image: {c.svc}:latest", "    ports:", "      - \"8080:8080\"",
             "    environment:", "      - APP_ENV=production", f"      - {c.n.upper}={S}",
             "    depends_on:", "      - redis", "  redis:", "    image: redis:7"]
    return "docker-compose.yml", lines


def r_yaml_nested(c):
    key = c.pick(c.n.leaf_snake, c.n.leaf_camel, "-".join(c.n.leaf))
    lines = ["server:", "  port: 8080", "  host: 0.0.0.0", "", f"{c.n.section}:",
             f"  endpoint: https://{c.host}", f"  {key}: {S}", "  timeout: 30s", "", "logging:", "  level: info"]
    return c.pick("config.yaml", "application.yml", "values.yaml"), lines


def r_json(c):
    if c.rng.randrange(2):
        lines = ["{", f'  "name": "{c.svc}",', '  "environment": "production",', f'  "{c.n.upper}": "{S}",',
                 '  "timeout": 30', "}"]
        return c.pick("config.json", "env.json"), lines
    lines = ["{", '  "server": { "port": 8080 },', f'  "{c.n.section}": {{', f'    "endpoint": "https://{c.host}",',
             f'    "{c.n.leaf_camel}": "{S}"', "  },", '  "logLevel": "info"', "}"]
    return c.pick("appsettings.json", "settings.json", "secrets.json"), lines


def r_toml(c):
    lines = ["[server]", 'bind = "0.0.0.0:8080"', "", f"[{c.n.section}]", f'endpoint = "https://{c.host}"',
             f'{c.n.leaf_snake} = "{S}"', "retries = 3"]
    return c.pick("config.toml", "settings.toml"), lines


def r_properties(c):
    lines = ["server.port=8080", "spring.application.name=" + c.svc, "logging.level.root=INFO",
             f"{c.n.section}.url=https://{c.host}", f"{c.n.section}.{'-'.join(c.n.leaf)}={S}"]
    return c.pick("application.properties", "application-prod.properties"), lines


def r_xml(c):
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>",
             '    <add key="Environment" value="Production" />', f'    <add key="{c.n.pascal}" value="{S}" />',
             f'    <add key="{c.n.section.capitalize()}BaseUrl" value="https://{c.host}" />',
             "  </appSettings>", "</configuration>"]
    return c.pick("Web.config", "App.config"), lines


def r_hcl(c):
    if c.rng.randrange(2):
        lines = [f'variable "{c.n.snake}" {{', "  type      = string", "  sensitive = true",
                 f'  default   = "{S}"', "}", "", 'variable "region" {', '  default = "eu-west-1"', "}"]
        return "variables.tf", lines
    lines = ["terraform {", "  required_version = \">= 1.5\"", "}", "", f'provider "{c.n.section}" {{',
             f'  {c.n.leaf_snake} = "{S}"', "}"]
    return "main.tf", lines


def r_dockerfile(c):
    lines = ["FROM python:3.12-slim", "WORKDIR /app", "COPY requirements.txt .",
             "RUN pip install --no-cache-dir -r requirements.txt", "COPY . .",
             "ENV APP_ENV=production", f"ENV {c.n.upper}={S}", 'CMD ["python", "-m", "app"]']
    return "Dockerfile", lines


def r_ini(c):
    lines = ["[general]", "log_level = info", "", f"[{c.n.section}]", f"{c.n.leaf_snake} = {S}",
             f"base_url = https://{c.host}"]
    return c.pick("config.ini", "setup.cfg", f"{c.n.section}.conf"), lines


def r_http(c):
    name, scheme = c.spec["header"]
    lines = [f"### {c.n.section} API", f"GET https://{c.host}/v1/me", "Accept: application/json",
             f"{name}: {scheme}{S}", "", "###"]
    return "requests.http", lines


def r_curl(c):
    name, scheme = c.spec["header"]
    lines = ["#!/bin/sh", f"# smoke test against {c.host}", f'curl -fsS "https://{c.host}/v1/status" \\',
             f'  -H "{name}: {scheme}{S}" \\', '  -H "Accept: application/json"']
    return "smoke.sh", lines


# --- files that only certain tools read ------------------------------------------------------

def s_npmrc(c):
    return ".npmrc", ["registry=https://registry.npmjs.org/", f"//registry.npmjs.org/:_authToken={S}",
                      "save-exact=true"]


def s_yarnrc(c):
    return ".yarnrc.yml", ["nodeLinker: node-modules", 'npmRegistryServer: "https://registry.npmjs.org"',
                           f'npmAuthToken: "{S}"']


def s_pypirc(c):
    return ".pypirc", ["[distutils]", "index-servers =", "    pypi", "", "[pypi]", "username = __token__",
                       f"password = {S}"]


def s_netrc(c):
    return ".netrc", [f"machine {c.host}", "  login deploy", f"  password {S}"]


def s_aws(c):
    return "credentials", ["[default]", "region = eu-west-1", "", f"[{c.svc}]", f"{c.n.snake} = {S}"]


def s_pgpass(c):
    return ".pgpass", [f"db.internal:5432:{c.svc.replace('-', '_')}:app:{S}"]


def s_gem(c):
    return "credentials", ["---", f":rubygems_api_key: {S}"]


def s_maven(c):
    return "settings.xml", ["<settings>", "  <servers>", "    <server>", f"      <id>{c.n.section}</id>",
                            "      <username>deploy</username>", f"      <password>{S}</password>",
                            "    </server>", "  </servers>", "</settings>"]


def s_cargo(c):
    return "credentials.toml", ["[registry]", f'token = "{S}"']


def s_nuget(c):
    return "NuGet.Config", ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <apikeys>",
                            f'    <add key="https://api.nuget.org/v3/index.json" value="{S}" />',
                            "  </apikeys>", "</configuration>"]


def s_kubeconfig(c):
    return "kubeconfig", ["apiVersion: v1", "kind: Config", "current-context: prod", "users:", "- name: deployer",
                          "  user:", f"    token: {S}", "contexts:", "- name: prod", "  context:",
                          "    cluster: prod", "    user: deployer"]


def s_terraformrc(c):
    return ".terraformrc", ['credentials "app.terraform.io" {', f'  token = "{S}"', "}"]


def s_composer(c):
    return "auth.json", ["{", '  "github-oauth": {', f'    "github.com": "{S}"', "  }", "}"]


def s_kaggle(c):
    return "kaggle.json", ['{"username": "' + c.svc.replace("-", "") + '", "key": "' + S + '"}']


def s_edgerc(c):
    return ".edgerc", ["[default]", "host = akab-h2m3x4q5r6t7y8u9-w0e1r2t3y4u5i6o7.luna.akamaiapis.net",
                       f"{c.n.leaf_snake} = {S}", "max-body = 131072"]


def s_zuliprc(c):
    return "zuliprc", ["[api]", f"email={c.svc}-bot@chat.example.org", f"key={S}", "site=https://chat.example.org"]


def s_gitcred(c):
    host = c.host[4:] if c.host.startswith("api.") else c.host
    return ".git-credentials", [f"https://deploy:{S}@{host}"]


def s_dockercfg(c):
    return "config.json", ["{", '  "auths": {', '    "https://index.docker.io/v1/": {', f'      "auth": "{S}"',
                           "    }", "  }", "}"]


SPECIAL = dict(dockercfg=s_dockercfg, npmrc=s_npmrc, yarnrc=s_yarnrc, pypirc=s_pypirc, netrc=s_netrc, aws=s_aws, pgpass=s_pgpass,
               gem=s_gem, maven=s_maven, cargo=s_cargo, nuget=s_nuget, kubeconfig=s_kubeconfig,
               terraformrc=s_terraformrc, composer=s_composer, kaggle=s_kaggle, edgerc=s_edgerc,
               zuliprc=s_zuliprc, gitcred=s_gitcred)

SINGLE = [r_env, r_python, r_yaml_nested, r_json, r_js, r_go, r_shell, r_k8s, r_java, r_toml, r_ruby,
          r_properties, r_php, r_compose, r_csharp, r_xml, r_ts, r_hcl, r_ci, r_dockerfile, r_ini]
HEADER = [r_http, r_curl]


# --- multi-line values (private keys) ------------------------------------------------------

def m_pem(c):
    return c.pick("id_rsa", "server.key", "deploy_key.pem", "signing.key", "tls.key"), [S]


def m_yaml(c):
    return "tls-secret.yaml", ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {c.svc}-tls",
                               "type: kubernetes.io/tls", "stringData:", "  tls.key: |", "    " + S]


def m_json(c):
    return c.pick("service-account.json", "credentials.json"), [
        "{", '  "type": "service_account",', f'  "client_email": "{c.svc}@example-prod.iam.gserviceaccount.com",',
        f'  "private_key": "{S}",', '  "token_uri": "https://oauth2.googleapis.com/token"', "}"]


def m_python(c):
    return "keys.py", ["# signing key for outbound webhooks", f'{c.n.upper} = """' + S + '"""', "",
                       "def signer():", f"    return load_pem_private_key({c.n.upper}.encode(), None)"]


def m_env(c):
    return ".env", ["APP_ENV=production", f'{c.n.upper}="{S}"', "PORT=8080"]


MULTI = [m_pem, m_yaml, m_json, m_python, m_env]
ESCAPED = {m_json, m_env}


def place(lines, value, multiline_mode=None):
    """Put the value at the marker; return (text, 1-based line of the value's first line)."""
    for i, line in enumerate(lines):
        if S in line:
            if "\n" in value:
                if multiline_mode == "escaped":
                    value = value.replace("\n", "\\n")
                else:
                    indent = line[: len(line) - len(line.lstrip())]
                    value = value.replace("\n", "\n" + indent)
            out = lines[:i] + [line.replace(S, value)] + lines[i + 1:]
            return "\n".join(out) + "\n", i + 1
    raise ValueError("no marker")
