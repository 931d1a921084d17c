"""Cloud, hosting/PaaS/CDN and infrastructure/secret-management credentials (from each provider's
documentation of its key formats and the variable names its CLI/SDK reads)."""

import base64
import json

from keys import RSA_PKCS8
from spec import *  # noqa: F401,F403

F = "cloud"
I = "infra"


def _op_token(rng):
    doc = {"signInAddress": "my.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
           "iterations": 650000, "salt": rand(rng, B64U, 22)}, "email": rand(rng, LALNUM, 26) + "@1passwordserviceaccounts.com",
           "srpX": rand(rng, HEX, 64), "muk": {"alg": "A256GCM", "ext": True, "k": rand(rng, B64U, 43),
           "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"}, "secretKey": "A3-" + rand(rng, UALNUM, 6)
           + "-" + rand(rng, UALNUM, 6) + "-" + rand(rng, UALNUM, 5) + "-" + rand(rng, UALNUM, 5) + "-"
           + rand(rng, UALNUM, 5) + "-" + rand(rng, UALNUM, 5), "throttleSecret": {"seed": rand(rng, HEX, 64),
           "uuid": rand(rng, UALNUM, 26)}, "deviceUuid": rand(rng, LALNUM, 26)}
    return "ops_" + base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode().rstrip("=")


def _sas_sig(rng):
    raw = base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()
    return raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


FORMATS = [
    # --- AWS: key id is AKIA/ASIA + 16 base32 characters; the secret is 40 of [A-Za-z0-9+/]
    P("aws", F, tok("AKIA", R(B32, 16)), ["AWS_ACCESS_KEY_ID", "aws_access_key_id"], host="sts.amazonaws.com"),
    P("aws", F, ctx(B64, 40), ["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "awsSecretKey"],
      host="sts.amazonaws.com", files=["aws"]),
    P("aws", F, tok("ASIA", R(B32, 16)), ["AWS_ACCESS_KEY_ID"], host="sts.amazonaws.com"),
    # --- Google Cloud: API keys AIza + 35, OAuth client secrets GOCSPX- + 28, service-account JSON keys
    P("google-cloud", F, tok("AIza", R(B64U, 35)), ["GOOGLE_API_KEY", "googleApiKey"], host="www.googleapis.com"),
    P("google-cloud", F, RSA_PKCS8, ["GOOGLE_PRIVATE_KEY", "private_key"], host="oauth2.googleapis.com"),
    P("google-oauth", "identity", tok("GOCSPX-", R(B64U, 28)), ["GOOGLE_CLIENT_SECRET", "client_secret"],
      host="oauth2.googleapis.com"),
    P("google-oauth", "identity", tok("1//0", R(B64U, 99)), ["GOOGLE_REFRESH_TOKEN", "refresh_token"],
      host="oauth2.googleapis.com"),
    # --- Azure
    P("azure-storage", F, b64bytes(64), ["AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY", "AccountKey"],
      host="acmeprod.blob.core.windows.net"),
    P("azure-storage", F, b64bytes(64), ["AZURE_STORAGE_CONNECTION_STRING"],
      url="DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={s};EndpointSuffix=core.windows.net"),
    P("azure-storage", F, Fn(_sas_sig), ["AZURE_BLOB_SAS_URL"],
      url="https://acmeprod.blob.core.windows.net/exports?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-31T00:00:00Z&spr=https&sig={s}"),
    P("azure-entra", "identity", tok(R(ALNUM, 3), R(DIGITS, 1), "Q~", R(B64U + ".~", 34)),
      ["AZURE_CLIENT_SECRET", "ClientSecret", "client_secret"], host="login.microsoftonline.com"),
    P("azure-servicebus", F, b64bytes(32), ["SERVICEBUS_CONNECTION_STRING"],
      url="Endpoint=sb://acme-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={s}"),
    P("azure-eventhubs", F, b64bytes(32), ["EVENTHUB_CONNECTION_STRING"],
      url="Endpoint=sb://acme-telemetry.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={s};EntityPath=events"),
    P("azure-functions", F, b64bytes(40, url=True), ["AZURE_FUNCTION_KEY", "x-functions-key"],
      header=("x-functions-key", ""), host="acme-fn.azurewebsites.net"),
    P("azure-search", F, ctx(UALNUM, 52), ["AZURE_SEARCH_ADMIN_KEY", "SearchAdminKey"],
      header=("api-key", ""), host="acme.search.windows.net"),
    # --- other public clouds
    P("alibaba-cloud", F, tok("LTAI", R(ALNUM, 20)), ["ALIBABA_CLOUD_ACCESS_KEY_ID", "access_key_id"],
      host="ecs.aliyuncs.com"),
    P("alibaba-cloud", F, ctx(ALNUM, 30), ["ALIBABA_CLOUD_ACCESS_KEY_SECRET", "access_key_secret"],
      host="ecs.aliyuncs.com"),
    P("tencent-cloud", F, tok("AKID", R(ALNUM, 32)), ["TENCENTCLOUD_SECRET_ID", "secret_id"],
      host="cvm.tencentcloudapi.com"),
    P("tencent-cloud", F, ctx(ALNUM, 32), ["TENCENTCLOUD_SECRET_KEY", "secret_key"], host="cvm.tencentcloudapi.com"),
    P("huawei-cloud", F, ctx(ALNUM, 40), ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY"], host="iam.myhuaweicloud.com"),
    P("ibm-cloud", F, ctx(B64U, 44), ["IBMCLOUD_API_KEY", "IC_API_KEY", "ibmcloud_api_key"], host="iam.cloud.ibm.com"),
    P("oracle-cloud", F, RSA_PKCS8, ["OCI_PRIVATE_KEY", "OCI_CLI_KEY_CONTENT"], host="identity.oraclecloud.com"),
    P("yandex-cloud", F, tok("AQVN", R(B64U, 36)), ["YC_API_KEY", "YANDEX_API_KEY"], host="llm.api.cloud.yandex.net",
      header=("Authorization", "Api-Key ")),
    P("yandex-cloud", F, tok("y0_", R(B64U, 55)), ["YC_TOKEN", "YANDEX_OAUTH_TOKEN"], host="iam.api.cloud.yandex.net"),
    P("digitalocean", F, tok("dop_v1_", R(HEX, 64)), ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "do_token"],
      host="api.digitalocean.com", header=("Authorization", "Bearer ")),
    P("digitalocean", F, tok("doo_v1_", R(HEX, 64)), ["DIGITALOCEAN_OAUTH_TOKEN"], host="api.digitalocean.com"),
    P("digitalocean-spaces", F, ctx(B64, 43), ["SPACES_SECRET_ACCESS_KEY", "spaces_secret_key"],
      host="fra1.digitaloceanspaces.com"),
    P("linode", F, ctx(HEX, 64), ["LINODE_TOKEN", "LINODE_CLI_TOKEN", "linode_token"], host="api.linode.com",
      header=("Authorization", "Bearer ")),
    P("vultr", F, ctx(UALNUM, 36), ["VULTR_API_KEY", "vultrApiKey"], host="api.vultr.com"),
    P("hetzner", F, ctx(ALNUM, 64), ["HCLOUD_TOKEN", "hcloud_token"], host="api.hetzner.cloud"),
    P("scaleway", F, uuid(), ["SCW_SECRET_KEY", "secret_key"], host="api.scaleway.com", header=("X-Auth-Token", "")),
    P("ovh", F, ctx(ALNUM, 32), ["OVH_APPLICATION_SECRET", "application_secret"], host="eu.api.ovh.com"),
    P("ovh", F, ctx(ALNUM, 32), ["OVH_CONSUMER_KEY", "consumer_key"], host="eu.api.ovh.com"),
    P("exoscale", F, ctx(B64U, 43), ["EXOSCALE_API_SECRET", "exoscale_secret"], host="api-ch-gva-2.exoscale.com"),
    P("upcloud", F, ctx(ALNUM, 24), ["UPCLOUD_PASSWORD"], host="api.upcloud.com"),
    P("civo", F, ctx(ALNUM, 50), ["CIVO_TOKEN", "civo_api_key"], host="api.civo.com"),
    P("equinix-metal", F, ctx(ALNUM, 32), ["METAL_AUTH_TOKEN", "PACKET_AUTH_TOKEN"], host="api.equinix.com",
      header=("X-Auth-Token", "")),
    P("ionos", F, jwt({"iss": "ionoscloud", "jti": lambda r: str(uuid().make(r)), "exp": True}, alg="RS256",
                      kid=True), ["IONOS_TOKEN"], host="api.ionos.com"),
    P("openstack", F, ctx(ALNUM, 20), ["OS_PASSWORD"], host="keystone.cloud.example.net"),
    P("openstack", F, ctx(B64U, 86), ["OS_APPLICATION_CREDENTIAL_SECRET"], host="keystone.cloud.example.net"),
    P("rackspace", F, ctx(HEX, 32), ["RAX_API_KEY", "RACKSPACE_API_KEY"], host="identity.api.rackspacecloud.com"),
    P("backblaze-b2", F, ctx(B64, 31), ["B2_APPLICATION_KEY", "applicationKey"], host="api.backblazeb2.com"),
    P("wasabi", F, ctx(ALNUM, 40), ["WASABI_SECRET_KEY", "wasabi_secret_access_key"], host="s3.wasabisys.com"),
    P("cloudflare", F, ctx(B64U, 40), ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "cloudflareApiToken"],
      host="api.cloudflare.com", header=("Authorization", "Bearer ")),
    P("cloudflare", F, ctx(HEX, 37), ["CLOUDFLARE_API_KEY", "CF_API_KEY"], host="api.cloudflare.com",
      header=("X-Auth-Key", "")),
    P("cloudflare", F, tok("v1.0-", R(HEX, 24), "-", R(HEX, 146)), ["CLOUDFLARE_ORIGIN_CA_KEY", "CF_ORIGIN_CA_KEY"],
      host="api.cloudflare.com"),
    P("fastly", F, ctx(B64U, 32), ["FASTLY_API_TOKEN", "FASTLY_API_KEY"], host="api.fastly.com",
      header=("Fastly-Key", "")),
    P("akamai", F, tok("akab-", R(LALNUM, 16), "-", R(LALNUM, 16)), ["access_token", "client_token"],
      host="akab-h2m3x4q5r6t7y8u9.luna.akamaiapis.net", files=["edgerc"]),
    P("akamai", F, b64bytes(32), ["client_secret", "AKAMAI_CLIENT_SECRET"], files=["edgerc"]),
    P("bunny", F, uuid(), ["BUNNY_API_KEY", "BUNNYCDN_ACCESS_KEY"], host="api.bunny.net", header=("AccessKey", "")),
    P("heroku", F, uuid(), ["HEROKU_API_KEY", "heroku_api_key"], host="api.heroku.com", files=["netrc"]),
    P("heroku", F, tok("HRKU-AA", R(B64U, 58)), ["HEROKU_API_KEY", "HEROKU_OAUTH_TOKEN"], host="api.heroku.com"),
    P("fly", F, tok("fm2_", R(B64, 180, 220)), ["FLY_API_TOKEN"], host="api.machines.dev",
      header=("Authorization", "FlyV1 ")),
    P("render", F, tok("rnd_", R(ALNUM, 32)), ["RENDER_API_KEY"], host="api.render.com"),
    P("railway", F, uuid(), ["RAILWAY_TOKEN", "RAILWAY_API_TOKEN"], host="backboard.railway.app"),
    P("vercel", F, ctx(ALNUM, 24), ["VERCEL_TOKEN", "vercelToken"], host="api.vercel.com",
      header=("Authorization", "Bearer ")),
    P("netlify", F, tok("nfp_", R(ALNUM, 36)), ["NETLIFY_AUTH_TOKEN", "netlify_token"], host="api.netlify.com"),
    P("firebase", F, tok("AAAA", R(B64U, 7), ":APA91b", R(B64U, 134)), ["FCM_SERVER_KEY", "firebaseServerKey"],
      host="fcm.googleapis.com", header=("Authorization", "key=")),
    P("firebase", F, ctx(ALNUM, 40), ["FIREBASE_DATABASE_SECRET", "databaseSecret"], host="acme.firebaseio.com"),
    P("kubernetes", F, jwt({"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci",
                            "kubernetes.io/serviceaccount/secret.name": "deployer-token",
                            "sub": "system:serviceaccount:ci:deployer"}, alg="RS256", kid=True),
      ["K8S_TOKEN", "KUBE_TOKEN", "token"], host="k8s.internal.example.net", files=["kubeconfig"]),
    # --- infrastructure as code, secret managers, networking
    P("hashicorp-vault", I, tok("hvs.CAESI", R(B64U, 80, 90)), ["VAULT_TOKEN", "vault_token"],
      host="vault.internal.example.net", header=("X-Vault-Token", "")),
    P("hashicorp-vault", I, tok("hvb.AAAAAQ", R(B64U, 120, 140)), ["VAULT_TOKEN"], host="vault.internal.example.net"),
    P("terraform-cloud", I, tok(R(ALNUM, 14), ".atlasv1.", R(ALNUM, 67)), ["TFE_TOKEN", "TF_TOKEN_app_terraform_io"],
      host="app.terraform.io", files=["terraformrc"]),
    P("pulumi", I, tok("pul-", R(HEX, 40)), ["PULUMI_ACCESS_TOKEN"], host="api.pulumi.com",
      header=("Authorization", "token ")),
    P("doppler", I, tok("dp.pt.", R(ALNUM, 43)), ["DOPPLER_TOKEN"], host="api.doppler.com"),
    P("doppler", I, tok("dp.st.prd.", R(ALNUM, 43)), ["DOPPLER_TOKEN", "DOPPLER_SERVICE_TOKEN"], host="api.doppler.com"),
    P("1password", I, Fn(_op_token, "ops_"), ["OP_SERVICE_ACCOUNT_TOKEN"], host="my.1password.com"),
    P("infisical", I, ctx(HEX, 64), ["INFISICAL_CLIENT_SECRET", "infisicalClientSecret"], host="app.infisical.com"),
    P("akeyless", I, b64bytes(32), ["AKEYLESS_ACCESS_KEY", "access_key"], host="api.akeyless.io"),
    P("ngrok", I, tok(R(ALNUM, 27), "_", R(ALNUM, 21)), ["NGROK_AUTHTOKEN", "authtoken"], host="api.ngrok.com"),
    P("tailscale", I, tok("tskey-auth-", R(ALNUM, 11), "CNTRL-", R(ALNUM, 33)), ["TS_AUTHKEY", "TAILSCALE_AUTHKEY"],
      host="api.tailscale.com"),
    P("tailscale", I, tok("tskey-api-", R(ALNUM, 11), "CNTRL-", R(ALNUM, 33)), ["TAILSCALE_API_KEY"],
      host="api.tailscale.com"),
    P("spacelift", I, ctx(HEX, 64), ["SPACELIFT_API_KEY_SECRET"], host="acme.app.spacelift.io"),
    P("env0", I, ctx(ALNUM, 32), ["ENV0_API_SECRET"], host="api.env0.com"),
]
