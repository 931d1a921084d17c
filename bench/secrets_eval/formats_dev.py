"""Version control, CI/CD, package registries and developer tooling."""

import base64
import json

from keys import RSA_PKCS1
from spec import *  # noqa: F401,F403

V = "vcs"
C = "ci-cd"
G = "registry"
D = "devtools"


def _pypi_macaroon(rng, host="pypi.org"):
    """PyPI API tokens: 'pypi-' + base64url(macaroon v2): location, identifier, caveats, signature."""
    def field(t, data):
        return bytes([t, len(data)]) + data
    ident = json.dumps({"version": 1, "permissions": "user"}, separators=(",", ":")).encode()
    token_id = uuid().make(rng).encode()
    caveat = json.dumps([1, {"project_ids": [uuid().make(rng)]}], separators=(",", ":")).encode()
    sig = bytes(rng.randrange(256) for _ in range(32))
    blob = (b"\x02" + field(1, host.encode()) + field(2, token_id) + b"\x00"
            + field(2, ident) + b"\x00" + field(2, caveat) + b"\x00" + b"\x00" + field(6, sig))
    return "pypi-" + base64.urlsafe_b64encode(blob).decode().rstrip("=")


def _sentry_org_token(rng):
    claims = {"iat": 1_700_000_000 + rng.randrange(40_000_000), "url": "https://sentry.io",
              "region_url": "https://us.sentry.io", "org": rand(rng, LOWER, 8)}
    body = base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    return "sntrys_" + body + "_" + rand(rng, B64U, 43)


def _docker_auth(rng):
    return base64.b64encode(("ci-bot:dckr_pat_" + rand(rng, B64U, 27)).encode()).decode()


FORMATS = [
    # --- GitHub: 30 random base62 characters + CRC32 of them in 6 base62 digits
    P("github", V, tok("ghp_", R(ALNUM, 30), checksum="github-crc32"), ["GITHUB_TOKEN", "GH_TOKEN", "githubToken"],
      host="api.github.com", header=("Authorization", "token "), files=["gitcred"]),
    P("github", V, tok("gho_", R(ALNUM, 30), checksum="github-crc32"), ["GITHUB_OAUTH_TOKEN", "github_token"],
      host="api.github.com", files=["composer"]),
    P("github", V, tok("github_pat_", R(ALNUM, 22), "_", R(ALNUM, 59)), ["GITHUB_PAT", "GH_PAT"], host="api.github.com",
      header=("Authorization", "Bearer ")),
    P("github-app", V, tok("ghs_", R(ALNUM, 30), checksum="github-crc32"), ["GITHUB_INSTALLATION_TOKEN"],
      host="api.github.com"),
    P("github-app", V, RSA_PKCS1, ["GITHUB_APP_PRIVATE_KEY", "private_key"], host="api.github.com"),
    P("github-app", V, tok("ghr_", R(ALNUM, 30), checksum="github-crc32"), ["GITHUB_REFRESH_TOKEN"],
      host="github.com"),
    P("github-oauth-app", V, ctx(HEX, 40), ["GITHUB_CLIENT_SECRET", "github_client_secret"], host="github.com"),
    P("github-actions", V, tok("ghu_", R(ALNUM, 30), checksum="github-crc32"), ["GH_USER_TOKEN"], host="api.github.com"),
    P("gitlab", V, tok("glpat-", R(B64U, 20)), ["GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "gitlabToken"],
      host="gitlab.com", header=("PRIVATE-TOKEN", "")),
    P("gitlab", V, tok("glptt-", R(HEX, 40)), ["GITLAB_TRIGGER_TOKEN", "CI_TRIGGER_TOKEN"], host="gitlab.com"),
    P("gitlab", V, tok("gldt-", R(B64U, 20)), ["GITLAB_DEPLOY_TOKEN", "deploy_token"], host="gitlab.com"),
    P("gitlab-runner", C, tok("glrt-", R(B64U, 20)), ["RUNNER_TOKEN", "CI_SERVER_TOKEN", "token"], host="gitlab.com"),
    P("gitlab-runner", C, tok("GR1348941", R(B64U, 20)), ["REGISTRATION_TOKEN"], host="gitlab.com"),
    P("bitbucket", V, tok("ATBB", R(ALNUM, 32)), ["BITBUCKET_APP_PASSWORD", "bitbucket_password"],
      host="api.bitbucket.org"),
    P("bitbucket", V, tok("ATCTT3xFfGN0", R(B64U, 170, 190)), ["BITBUCKET_ACCESS_TOKEN"], host="api.bitbucket.org"),
    P("atlassian", "productivity", tok("ATATT3xFfGF0", R(B64U, 170, 190), "=", R(HEXU, 8)),
      ["JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN", "atlassian_api_token"], host="acme.atlassian.net"),
    P("azure-devops", V, ctx(B32L, 52), ["AZURE_DEVOPS_PAT", "AZURE_DEVOPS_EXT_PAT", "azdoToken"],
      host="dev.azure.com"),
    P("gitea", V, ctx(HEX, 40), ["GITEA_TOKEN", "gitea_access_token"], host="gitea.internal.example.net",
      header=("Authorization", "token ")),
    P("sourcehut", V, ctx(B64, 100, 110), ["SRHT_TOKEN", "SOURCEHUT_OAUTH_TOKEN"], host="git.sr.ht"),
    # --- CI/CD
    P("circleci", C, tok("CCIPAT_", R(ALNUM, 22), "_", R(HEX, 40)), ["CIRCLECI_TOKEN", "CIRCLE_TOKEN"],
      host="circleci.com", header=("Circle-Token", "")),
    P("circleci", C, ctx(HEX, 40), ["CIRCLE_TOKEN", "circleciApiToken"], host="circleci.com"),
    P("travis-ci", C, ctx(B64U, 22), ["TRAVIS_TOKEN", "TRAVIS_API_TOKEN"], host="api.travis-ci.com",
      header=("Authorization", "token ")),
    P("buildkite", C, tok("bkua_", R(HEX, 40)), ["BUILDKITE_API_TOKEN", "BUILDKITE_TOKEN"], host="api.buildkite.com"),
    P("buildkite", C, ctx(HEX, 50), ["BUILDKITE_AGENT_TOKEN", "agent_token"], host="agent.buildkite.com"),
    P("jenkins", C, tok("11", R(HEX, 32)), ["JENKINS_API_TOKEN", "JENKINS_TOKEN", "jenkinsToken"],
      host="jenkins.internal.example.net"),
    P("teamcity", C, tok("eyJ0eXAiOiAiVENWMiJ9.", R(B64U, 36), ".", R(B64U, 48)), ["TEAMCITY_TOKEN"],
      host="teamcity.internal.example.net", header=("Authorization", "Bearer ")),
    P("drone", C, ctx(ALNUM, 32), ["DRONE_TOKEN"], host="drone.internal.example.net"),
    P("codecov", C, uuid(), ["CODECOV_TOKEN", "codecov_token"], host="codecov.io"),
    P("coveralls", C, ctx(ALNUM, 33), ["COVERALLS_REPO_TOKEN"], host="coveralls.io"),
    P("bitrise", C, ctx(B64U, 86), ["BITRISE_TOKEN", "BITRISE_ACCESS_TOKEN"], host="api.bitrise.io"),
    P("octopus-deploy", C, tok("API-", R(UALNUM, 32)), ["OCTOPUS_API_KEY", "OctopusApiKey"],
      host="acme.octopus.app", header=("X-Octopus-ApiKey", "")),
    P("harness", C, tok("pat.", R(B64U, 22), ".", R(HEX, 24), ".", R(ALNUM, 20)), ["HARNESS_API_KEY", "HARNESS_PLATFORM_API_KEY"],
      host="app.harness.io", header=("x-api-key", "")),
    P("argocd", C, jwt({"iss": "argocd", "sub": "ci:apiKey", "jti": lambda r: uuid().make(r)}),
      ["ARGOCD_AUTH_TOKEN"], host="argocd.internal.example.net"),
    P("appveyor", C, tok("v2.", R(LALNUM, 20)), ["APPVEYOR_API_TOKEN"], host="ci.appveyor.com"),
    P("semaphore", C, ctx(ALNUM, 20), ["SEMAPHORE_API_TOKEN"], host="acme.semaphoreci.com"),
    P("codefresh", C, tok(R(HEX, 24), ".", R(HEX, 32)), ["CF_API_KEY", "CODEFRESH_API_KEY"], host="g.codefresh.io"),
    P("expo", C, ctx(B64U, 40), ["EXPO_TOKEN"], host="api.expo.dev"),
    P("depot", C, tok("depot_project_", R(HEX, 64)), ["DEPOT_TOKEN"], host="api.depot.dev"),
    # --- package registries
    P("npm", G, tok("npm_", R(ALNUM, 30), checksum="npm-crc32"), ["NPM_TOKEN", "NODE_AUTH_TOKEN", "npmToken"],
      host="registry.npmjs.org", files=["npmrc", "yarnrc"]),
    P("pypi", G, Fn(_pypi_macaroon, "pypi-AgEIcHlwaS5vcmc"), ["PYPI_API_TOKEN", "TWINE_PASSWORD", "pypi_token"],
      host="upload.pypi.org", files=["pypirc"]),
    P("test-pypi", G, Fn(lambda r: _pypi_macaroon(r, "test.pypi.org"), "pypi-AgENdGVzdC5weXBpLm9yZw"),
      ["TEST_PYPI_API_TOKEN"], host="test.pypi.org"),
    P("rubygems", G, tok("rubygems_", R(HEX, 48)), ["GEM_HOST_API_KEY", "RUBYGEMS_API_KEY"], host="rubygems.org",
      files=["gem"]),
    P("nuget", G, tok("oy2", R(LALNUM, 43)), ["NUGET_API_KEY", "NuGetApiKey"], host="api.nuget.org", files=["nuget"]),
    P("crates-io", G, tok("cio", R(ALNUM, 32)), ["CARGO_REGISTRY_TOKEN", "CRATES_IO_TOKEN"], host="crates.io",
      files=["cargo"]),
    P("hex-pm", G, ctx(HEX, 32), ["HEX_API_KEY"], host="hex.pm"),
    P("jfrog", G, tok("AKCp", R(ALNUM, 69)), ["ARTIFACTORY_API_KEY", "JFROG_API_KEY"], host="acme.jfrog.io",
      header=("X-JFrog-Art-Api", ""), files=["maven"]),
    P("jfrog", G, tok("cmVmdGtuOjAxOj", R(B64U, 50)), ["JFROG_ACCESS_TOKEN", "ARTIFACTORY_ACCESS_TOKEN"],
      host="acme.jfrog.io"),
    P("sonatype", G, ctx(B64, 44), ["OSSRH_PASSWORD", "SONATYPE_TOKEN_PASSWORD"], host="s01.oss.sonatype.org",
      files=["maven"]),
    P("cloudsmith", G, ctx(HEX, 40), ["CLOUDSMITH_API_KEY"], host="api.cloudsmith.io", header=("X-Api-Key", "")),
    P("gemfury", G, ctx(ALNUM, 20), ["FURY_AUTH", "GEMFURY_TOKEN"], host="push.fury.io"),
    P("anaconda", G, ctx(B64U, 30), ["ANACONDA_API_TOKEN", "ANACONDA_TOKEN"], host="api.anaconda.org"),
    P("docker-hub", G, tok("dckr_pat_", R(B64U, 27)), ["DOCKERHUB_TOKEN", "DOCKER_PASSWORD", "dockerhubToken"],
      host="hub.docker.com"),
    P("docker-hub", G, Fn(_docker_auth), ["DOCKER_AUTH_CONFIG", "auth"], host="index.docker.io", files=["dockercfg"]),
    P("quay", G, ctx(UALNUM, 64), ["QUAY_ROBOT_TOKEN", "QUAY_PASSWORD"], host="quay.io"),
    P("harbor", G, ctx(ALNUM, 32), ["HARBOR_ROBOT_SECRET", "HARBOR_PASSWORD"], host="harbor.internal.example.net"),
    P("chocolatey", G, uuid(), ["CHOCOLATEY_API_KEY", "CHOCO_API_KEY"], host="push.chocolatey.org"),
    P("vscode-marketplace", G, ctx(B32L, 52), ["VSCE_PAT"], host="marketplace.visualstudio.com"),
    P("open-vsx", G, uuid(), ["OVSX_PAT"], host="open-vsx.org"),
    P("packagecloud", G, ctx(HEX, 48), ["PACKAGECLOUD_TOKEN"], host="packagecloud.io"),
    P("pub-dev", G, ctx(B64U, 64), ["PUB_TOKEN"], host="pub.dev"),
    P("cocoapods", G, ctx(HEX, 32), ["COCOAPODS_TRUNK_TOKEN"], host="trunk.cocoapods.org"),
    # --- developer tooling
    P("postman", D, tok("PMAK-", R(HEX, 24), "-", R(HEX, 34)), ["POSTMAN_API_KEY", "postmanApiKey"],
      host="api.getpostman.com", header=("X-Api-Key", "")),
    P("sourcegraph", D, tok("sgp_", R(HEX, 16), "_", R(HEX, 40)), ["SRC_ACCESS_TOKEN", "SOURCEGRAPH_TOKEN"],
      host="sourcegraph.com", header=("Authorization", "token ")),
    P("readme", D, tok("rdme_", R(HEX, 70)), ["README_API_KEY"], host="dash.readme.com"),
    P("deno-deploy", D, tok("ddp_", R(ALNUM, 36)), ["DENO_DEPLOY_TOKEN"], host="api.deno.com"),
    # a DSN only routes events (Sentry documents it as safe to expose): the public near-miss
    P("sentry", D, Fn(_sentry_org_token, "sntrys_eyJ"), ["SENTRY_AUTH_TOKEN"], host="sentry.io",
      public=tok("https://", R(HEX, 32), "@o", R(DIGITS, 7), ".ingest.us.sentry.io/", R(DIGITS, 7))),
    P("sentry", D, tok("sntryu_", R(HEX, 64)), ["SENTRY_AUTH_TOKEN", "sentryAuthToken"], host="sentry.io",
      header=("Authorization", "Bearer ")),

    P("gitbook", D, tok("gb_api_", R(ALNUM, 40)), ["GITBOOK_TOKEN"], host="api.gitbook.com"),
    P("gitpod", D, ctx(B64U, 43), ["GITPOD_TOKEN"], host="api.gitpod.io"),
    P("snyk", "security", uuid(), ["SNYK_TOKEN", "snyk_api_token"], host="api.snyk.io",
      header=("Authorization", "token ")),
    P("sonarqube", C, tok("squ_", R(HEX, 40)), ["SONAR_TOKEN", "sonar.token"], host="sonar.internal.example.net"),
    P("sonarqube", C, tok("sqp_", R(HEX, 40)), ["SONAR_TOKEN"], host="sonar.internal.example.net"),
    P("sonarcloud", C, ctx(HEX, 40), ["SONARCLOUD_TOKEN", "SONAR_TOKEN"], host="sonarcloud.io"),
    P("launchdarkly", D, join("sdk-", uuid()), ["LAUNCHDARKLY_SDK_KEY", "LD_SDK_KEY"], host="sdk.launchdarkly.com",
      public=ctx(HEX, 24)),
    P("launchdarkly", D, join("api-", uuid()), ["LAUNCHDARKLY_ACCESS_TOKEN", "LD_API_KEY"],
      host="app.launchdarkly.com", header=("Authorization", "")),
    P("configcat", D, tok("configcat-sdk-1/", R(B64U, 22), "/", R(B64U, 22)), ["CONFIGCAT_SDK_KEY"],
      host="cdn-global.configcat.com"),
    P("flagsmith", D, tok("ser.", R(ALNUM, 22)), ["FLAGSMITH_ENVIRONMENT_KEY", "FLAGSMITH_SERVER_KEY"],
      host="edge.api.flagsmith.com"),
    P("statsig", D, tok("secret-", R(ALNUM, 43)), ["STATSIG_SERVER_SECRET", "STATSIG_SECRET_KEY"],
      host="api.statsig.com", public=tok("client-", R(ALNUM, 43))),
    P("split", D, ctx(LALNUM, 36), ["SPLIT_API_KEY", "SPLITIO_SDK_KEY"], host="sdk.split.io"),
    P("unleash", D, tok("*:production.", R(HEX, 56)), ["UNLEASH_API_TOKEN"], host="unleash.internal.example.net"),
    P("contentful", D, tok("CFPAT-", R(B64U, 43)), ["CONTENTFUL_MANAGEMENT_TOKEN"], host="api.contentful.com"),
    P("contentful", D, ctx(B64U, 43), ["CONTENTFUL_ACCESS_TOKEN", "CONTENTFUL_DELIVERY_TOKEN"],
      host="cdn.contentful.com"),
    P("sanity", D, tok("sk", R(ALNUM, 180)), ["SANITY_API_TOKEN", "SANITY_AUTH_TOKEN"], host="api.sanity.io"),
    P("storyblok", D, ctx(ALNUM, 24, post="tt"), ["STORYBLOK_TOKEN"], host="api.storyblok.com"),
    P("prismic", D, ctx(B64U, 140), ["PRISMIC_ACCESS_TOKEN"], host="acme.cdn.prismic.io"),
    P("datocms", D, ctx(HEX, 30), ["DATOCMS_API_TOKEN"], host="site-api.datocms.com"),
    P("algolia", D, ctx(HEX, 32), ["ALGOLIA_ADMIN_KEY", "ALGOLIA_API_KEY", "algoliaAdminKey"],
      host="acme-dsn.algolia.net", header=("X-Algolia-API-Key", ""), objid=ctx(UALNUM, 10)),
    P("meilisearch", D, ctx(ALNUM, 43), ["MEILI_MASTER_KEY", "MEILISEARCH_API_KEY"], host="search.internal.example.net"),
    P("typesense", D, ctx(ALNUM, 32), ["TYPESENSE_API_KEY"], host="xyz.a1.typesense.net",
      header=("X-TYPESENSE-API-KEY", "")),
]
