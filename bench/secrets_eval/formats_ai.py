"""AI/ML platforms, observability/monitoring and product analytics."""

import base64
import json

from spec import *  # noqa: F401,F403

AI = "ai-ml"
OB = "observability"
AN = "analytics"


def _neptune(rng):
    doc = {"api_address": "https://app.neptune.ai", "api_url": "https://app.neptune.ai", "api_key": uuid().make(rng)}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _bedrock(rng):
    raw = b"BedrockAPIKey-" + rand(rng, LALNUM, 4).encode() + b"-at-" + str(rng.randrange(10 ** 11, 10 ** 12)).encode() \
        + b":" + base64.b64encode(bytes(rng.randrange(256) for _ in range(40)))
    return "ABSK" + base64.b64encode(raw).decode()


def _grafana_cloud(rng):
    doc = {"o": str(rng.randrange(10 ** 5, 10 ** 6)), "n": "stack-" + str(rng.randrange(10 ** 5, 10 ** 6)) + "-ci",
           "k": rand(rng, ALNUM, 24), "m": {"r": rng.choice(["prod-eu-west-2", "prod-us-east-0"])}}
    return "glc_" + base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _nr_license(rng):
    return rand(rng, HEX, 36) + "NRAL"


FORMATS = [
    # --- AI / ML
    P("openai", AI, tok("sk-proj-", R(B64U, 74), "T3BlbkFJ", R(B64U, 74)), ["OPENAI_API_KEY", "openaiApiKey", "openai_key"],
      host="api.openai.com", header=("Authorization", "Bearer "), objid=tok("org-", R(ALNUM, 24))),
    P("openai", AI, tok("sk-", R(ALNUM, 20), "T3BlbkFJ", R(ALNUM, 20)), ["OPENAI_API_KEY"], host="api.openai.com"),
    P("openai", AI, tok("sk-svcacct-", R(B64U, 74), "T3BlbkFJ", R(B64U, 74)), ["OPENAI_API_KEY"], host="api.openai.com"),
    P("anthropic", AI, tok("sk-ant-api03-", R(B64U, 93), "AA"), ["ANTHROPIC_API_KEY", "anthropicApiKey", "CLAUDE_API_KEY"],
      host="api.anthropic.com", header=("x-api-key", "")),
    P("anthropic", AI, tok("sk-ant-admin01-", R(B64U, 93), "AA"), ["ANTHROPIC_ADMIN_KEY"], host="api.anthropic.com"),
    P("huggingface", AI, tok("hf_", R(ALPHA, 34)), ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "hfToken"],
      host="huggingface.co", header=("Authorization", "Bearer ")),
    P("cohere", AI, ctx(ALNUM, 40), ["COHERE_API_KEY", "CO_API_KEY"], host="api.cohere.com"),
    P("replicate", AI, tok("r8_", R(ALNUM, 37)), ["REPLICATE_API_TOKEN"], host="api.replicate.com"),
    P("groq", AI, tok("gsk_", R(ALNUM, 52)), ["GROQ_API_KEY", "groqApiKey"], host="api.groq.com"),
    P("mistral", AI, ctx(ALNUM, 32), ["MISTRAL_API_KEY", "mistralApiKey"], host="api.mistral.ai",
      header=("Authorization", "Bearer ")),
    P("deepseek", AI, tok("sk-", R(HEX, 32)), ["DEEPSEEK_API_KEY"], host="api.deepseek.com"),
    P("openrouter", AI, tok("sk-or-v1-", R(HEX, 64)), ["OPENROUTER_API_KEY"], host="openrouter.ai"),
    P("xai", AI, tok("xai-", R(ALNUM, 80)), ["XAI_API_KEY", "GROK_API_KEY"], host="api.x.ai"),
    P("perplexity", AI, tok("pplx-", R(ALNUM, 48)), ["PERPLEXITY_API_KEY", "PPLX_API_KEY"], host="api.perplexity.ai"),
    P("together", AI, ctx(HEX, 64), ["TOGETHER_API_KEY"], host="api.together.xyz"),
    P("fireworks", AI, tok("fw_", R(ALNUM, 24)), ["FIREWORKS_API_KEY"], host="api.fireworks.ai"),
    P("google-gemini", AI, tok("AIza", R(B64U, 35)), ["GEMINI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY"],
      host="generativelanguage.googleapis.com", header=("x-goog-api-key", "")),
    P("azure-openai", AI, ctx(HEX, 32), ["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"], host="acme.openai.azure.com",
      header=("api-key", "")),
    P("aws-bedrock", AI, Fn(_bedrock, "ABSKQmVkcm9ja0FQSUtleS"), ["AWS_BEARER_TOKEN_BEDROCK"],
      host="bedrock-runtime.us-east-1.amazonaws.com"),
    P("elevenlabs", AI, tok("sk_", R(HEX, 48)), ["ELEVENLABS_API_KEY", "XI_API_KEY"], host="api.elevenlabs.io",
      header=("xi-api-key", "")),
    P("assemblyai", AI, ctx(HEX, 32), ["ASSEMBLYAI_API_KEY"], host="api.assemblyai.com", header=("Authorization", "")),
    P("deepgram", AI, ctx(HEX, 40), ["DEEPGRAM_API_KEY"], host="api.deepgram.com", header=("Authorization", "Token ")),
    P("stability", AI, tok("sk-", R(ALNUM, 48)), ["STABILITY_API_KEY"], host="api.stability.ai"),
    P("pinecone", AI, tok("pcsk_", R(ALNUM, 5), "_", R(ALNUM, 63)), ["PINECONE_API_KEY", "pineconeApiKey"],
      host="api.pinecone.io", header=("Api-Key", "")),
    P("pinecone", AI, uuid(), ["PINECONE_API_KEY"], host="controller.us-west1-gcp.pinecone.io"),
    P("weaviate", AI, ctx(ALNUM, 40), ["WEAVIATE_API_KEY"], host="acme.weaviate.network"),
    P("qdrant", AI, ctx(B64U, 54), ["QDRANT_API_KEY"], host="acme.cloud.qdrant.io", header=("api-key", "")),
    P("langsmith", AI, tok("lsv2_pt_", R(HEX, 32), "_", R(HEX, 10)), ["LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"],
      host="api.smith.langchain.com"),
    P("wandb", AI, ctx(HEX, 40), ["WANDB_API_KEY"], host="api.wandb.ai", files=["netrc"]),
    P("comet", AI, ctx(ALNUM, 25), ["COMET_API_KEY"], host="www.comet.com"),
    P("neptune", AI, Fn(_neptune, "eyJhcGlfYWRkcmVzcyI6"), ["NEPTUNE_API_TOKEN"], host="app.neptune.ai"),
    P("clarifai", AI, ctx(HEX, 32), ["CLARIFAI_PAT"], host="api.clarifai.com", header=("Authorization", "Key ")),
    P("roboflow", AI, ctx(ALNUM, 20), ["ROBOFLOW_API_KEY"], host="api.roboflow.com"),
    P("runpod", AI, ctx(UALNUM, 40), ["RUNPOD_API_KEY"], host="api.runpod.io"),
    P("modal", AI, tok("as-", R(ALNUM, 22)), ["MODAL_TOKEN_SECRET"], host="api.modal.com",
      objid=tok("ak-", R(ALNUM, 22))),
    P("voyage", AI, tok("pa-", R(B64U, 43)), ["VOYAGE_API_KEY"], host="api.voyageai.com"),
    P("jina", AI, tok("jina_", R(ALNUM, 60)), ["JINA_API_KEY"], host="api.jina.ai"),
    P("ai21", AI, ctx(ALNUM, 32), ["AI21_API_KEY"], host="api.ai21.com"),
    P("nvidia", AI, tok("nvapi-", R(B64U, 64)), ["NVIDIA_API_KEY", "NGC_API_KEY"], host="integrate.api.nvidia.com"),
    P("cerebras", AI, tok("csk-", R(LALNUM, 48)), ["CEREBRAS_API_KEY"], host="api.cerebras.ai"),
    P("kaggle", AI, ctx(HEX, 32), ["KAGGLE_KEY", "key"], host="www.kaggle.com", files=["kaggle"]),
    P("scale-ai", AI, tok("live_", R(HEX, 32)), ["SCALE_API_KEY"], host="api.scale.com"),
    P("fal", AI, join(uuid(), ":", ctx(HEX, 32)), ["FAL_KEY"], host="fal.run", header=("Authorization", "Key ")),
    P("tavily", AI, tok("tvly-", R(ALNUM, 32)), ["TAVILY_API_KEY"], host="api.tavily.com"),
    P("serpapi", AI, ctx(HEX, 64), ["SERPAPI_API_KEY", "SERPAPI_KEY"], host="serpapi.com"),
    P("exa", AI, uuid(), ["EXA_API_KEY"], host="api.exa.ai", header=("x-api-key", "")),
    P("firecrawl", AI, tok("fc-", R(HEX, 32)), ["FIRECRAWL_API_KEY"], host="api.firecrawl.dev"),
    P("browserbase", AI, tok("bb_live_", R(B64U, 27)), ["BROWSERBASE_API_KEY"], host="api.browserbase.com",
      header=("X-BB-API-Key", "")),
    P("e2b", AI, tok("e2b_", R(HEX, 40)), ["E2B_API_KEY"], host="api.e2b.dev"),
    P("llamacloud", AI, tok("llx-", R(ALNUM, 48)), ["LLAMA_CLOUD_API_KEY"], host="api.cloud.llamaindex.ai"),
    P("baseten", AI, tok(R(ALNUM, 8), ".", R(ALNUM, 32)), ["BASETEN_API_KEY"], host="api.baseten.co",
      header=("Authorization", "Api-Key ")),
    P("unstructured", AI, ctx(ALNUM, 30), ["UNSTRUCTURED_API_KEY"], host="api.unstructuredapp.io",
      header=("unstructured-api-key", "")),
    # --- observability
    P("datadog", OB, ctx(HEX, 32), ["DD_API_KEY", "DATADOG_API_KEY", "datadogApiKey"], host="api.datadoghq.com",
      header=("DD-API-KEY", "")),
    P("datadog", OB, ctx(HEX, 40), ["DD_APP_KEY", "DATADOG_APP_KEY"], host="api.datadoghq.eu",
      header=("DD-APPLICATION-KEY", "")),
    P("new-relic", OB, tok("NRAK-", R(UALNUM, 27)), ["NEW_RELIC_API_KEY", "NEWRELIC_API_KEY"],
      host="api.newrelic.com", header=("Api-Key", ""), objid=ctx(DIGITS, 7)),
    P("new-relic", OB, Fn(_nr_license), ["NEW_RELIC_LICENSE_KEY", "license_key"], host="collector.newrelic.com"),
    P("new-relic", OB, tok("NRII-", R(B64U, 32)), ["NEW_RELIC_INSERT_KEY"], host="insights-collector.newrelic.com"),
    P("grafana", OB, tok("glsa_", R(ALNUM, 32), "_", R(HEX, 8)), ["GRAFANA_SERVICE_ACCOUNT_TOKEN", "GRAFANA_TOKEN"],
      host="grafana.internal.example.net", header=("Authorization", "Bearer ")),
    P("grafana-cloud", OB, Fn(_grafana_cloud, "glc_eyJ"), ["GRAFANA_CLOUD_ACCESS_POLICY_TOKEN", "GRAFANA_CLOUD_API_KEY"],
      host="grafana.com"),
    P("honeycomb", OB, ctx(ALNUM, 22), ["HONEYCOMB_API_KEY", "HONEYCOMB_WRITEKEY"], host="api.honeycomb.io",
      header=("X-Honeycomb-Team", "")),
    P("logzio", OB, ctx(ALPHA, 32), ["LOGZIO_TOKEN", "LOGZIO_SHIPPING_TOKEN"], host="listener.logz.io"),
    P("loggly", OB, uuid(), ["LOGGLY_TOKEN", "LOGGLY_CUSTOMER_TOKEN"], host="logs-01.loggly.com",
      url="https://logs-01.loggly.com/inputs/{s}/tag/http/"),
    P("papertrail", OB, ctx(ALNUM, 20), ["PAPERTRAIL_API_TOKEN"], host="papertrailapp.com",
      header=("X-Papertrail-Token", "")),
    P("sumo-logic", OB, ctx(ALNUM, 64), ["SUMO_ACCESS_KEY", "SUMOLOGIC_ACCESSKEY"], host="api.sumologic.com",
      objid=tok("su", R(ALNUM, 12))),
    P("splunk", OB, uuid(), ["SPLUNK_HEC_TOKEN", "splunk_hec_token"], host="http-inputs-acme.splunkcloud.com",
      header=("Authorization", "Splunk ")),
    P("elastic", OB, Fn(lambda r: base64.b64encode((rand(r, B64U, 20) + ":" + rand(r, B64U, 22)).encode()).decode()),
      ["ELASTIC_API_KEY", "ELASTICSEARCH_API_KEY"],
      host="acme.es.us-east-1.aws.elastic.cloud", header=("Authorization", "ApiKey ")),
    P("dynatrace", OB, tok("dt0c01.", R(UALNUM, 24), ".", R(UALNUM, 64)), ["DT_API_TOKEN", "DYNATRACE_API_TOKEN"],
      host="acme.live.dynatrace.com", header=("Authorization", "Api-Token ")),
    P("pagerduty", OB, ctx(B64U, 20), ["PAGERDUTY_TOKEN", "PAGERDUTY_API_KEY"], host="api.pagerduty.com",
      header=("Authorization", "Token token=")),
    P("pagerduty", OB, ctx(HEX, 32), ["PAGERDUTY_ROUTING_KEY", "PAGERDUTY_INTEGRATION_KEY"], host="events.pagerduty.com"),
    P("opsgenie", OB, uuid(), ["OPSGENIE_API_KEY"], host="api.opsgenie.com", header=("Authorization", "GenieKey ")),
    P("rollbar", OB, ctx(HEX, 32), ["ROLLBAR_ACCESS_TOKEN", "ROLLBAR_POST_SERVER_ITEM_ACCESS_TOKEN"],
      host="api.rollbar.com", header=("X-Rollbar-Access-Token", "")),
    P("bugsnag", OB, ctx(HEX, 32), ["BUGSNAG_API_KEY"], host="notify.bugsnag.com"),
    P("airbrake", OB, ctx(HEX, 32), ["AIRBRAKE_PROJECT_KEY"], host="api.airbrake.io", objid=ctx(DIGITS, 6)),
    P("honeybadger", OB, tok("hbp_", R(ALNUM, 36)), ["HONEYBADGER_PERSONAL_AUTH_TOKEN"], host="app.honeybadger.io"),
    P("honeybadger", OB, ctx(ALNUM, 22), ["HONEYBADGER_API_KEY"], host="api.honeybadger.io"),
    P("raygun", OB, ctx(ALNUM, 22), ["RAYGUN_APIKEY"], host="api.raygun.com"),
    P("statuspage", OB, uuid(), ["STATUSPAGE_API_KEY"], host="api.statuspage.io", header=("Authorization", "OAuth ")),
    P("betterstack", OB, ctx(ALNUM, 24), ["BETTERSTACK_API_TOKEN", "LOGTAIL_SOURCE_TOKEN"], host="uptime.betterstack.com"),
    P("checkly", OB, tok("cu_", R(HEX, 32)), ["CHECKLY_API_KEY"], host="api.checklyhq.com"),
    P("uptimerobot", OB, tok("u", R(DIGITS, 7), "-", R(HEX, 24)), ["UPTIMEROBOT_API_KEY"], host="api.uptimerobot.com"),
    P("mezmo", OB, ctx(HEX, 32), ["MEZMO_INGESTION_KEY", "LOGDNA_KEY"], host="logs.mezmo.com"),
    P("coralogix", OB, tok("cxtp_", R(ALNUM, 30)), ["CORALOGIX_API_KEY", "CX_API_KEY"], host="ingress.eu2.coralogix.com"),
    P("axiom", OB, join("xaat-", uuid()), ["AXIOM_TOKEN"], host="api.axiom.co"),
    P("lightstep", OB, ctx(B64, 84), ["LIGHTSTEP_ACCESS_TOKEN", "LS_ACCESS_TOKEN"], host="ingest.lightstep.com",
      header=("lightstep-access-token", "")),
    P("appsignal", OB, uuid(), ["APPSIGNAL_PUSH_API_KEY"], host="push.appsignal.com"),
    P("scout-apm", OB, ctx(ALNUM, 20), ["SCOUT_KEY"], host="checkin.scoutapm.com"),
    P("instana", OB, ctx(B64U, 22), ["INSTANA_AGENT_KEY", "INSTANA_API_TOKEN"], host="acme.instana.io"),
    # --- analytics
    P("posthog", AN, tok("phx_", R(ALNUM, 43)), ["POSTHOG_PERSONAL_API_KEY"], host="us.posthog.com",
      public=tok("phc_", R(ALNUM, 43))),
    P("segment", AN, ctx(ALNUM, 32), ["SEGMENT_WRITE_KEY", "segmentWriteKey"], host="api.segment.io"),
    P("mixpanel", AN, ctx(HEX, 32), ["MIXPANEL_API_SECRET", "MIXPANEL_SECRET"], host="api.mixpanel.com",
      public=ctx(HEX, 32)),
    P("mixpanel", AN, ctx(ALNUM, 32), ["MIXPANEL_SERVICE_ACCOUNT_SECRET"], host="mixpanel.com"),
    P("amplitude", AN, ctx(HEX, 32), ["AMPLITUDE_SECRET_KEY"], host="amplitude.com", objid=ctx(DIGITS, 6)),
    P("heap", AN, ctx(HEX, 32), ["HEAP_API_KEY"], host="heapanalytics.com"),
    P("fullstory", AN, tok("na1.", R(B64, 60)), ["FULLSTORY_API_KEY"], host="api.fullstory.com",
      header=("Authorization", "Basic ")),
    P("pendo", AN, join(uuid(), ".us"), ["PENDO_INTEGRATION_KEY"], host="app.pendo.io",
      header=("x-pendo-integration-key", "")),
    P("google-analytics", AN, ctx(B64U, 22), ["GA_API_SECRET", "GA4_API_SECRET"], host="www.google-analytics.com",
      objid=tok("G-", R(UALNUM, 10))),
    P("plausible", AN, ctx(B64U, 64), ["PLAUSIBLE_API_KEY"], host="plausible.io"),
    P("matomo", AN, ctx(HEX, 32), ["MATOMO_TOKEN_AUTH", "token_auth"], host="analytics.example.org"),
    P("rudderstack", AN, ctx(ALNUM, 27), ["RUDDERSTACK_WRITE_KEY", "RUDDER_ACCESS_TOKEN"], host="acme.dataplane.rudderstack.com"),
    P("hotjar", AN, ctx(HEX, 64), ["HOTJAR_CLIENT_SECRET"], host="api.hotjar.io", objid=ctx(DIGITS, 7)),
    P("june", AN, ctx(ALNUM, 20), ["JUNE_WRITE_KEY"], host="api.june.so"),
    P("hightouch", AN, uuid(), ["HIGHTOUCH_API_KEY"], host="api.hightouch.com"),
    P("census", AN, tok("secret-token:", R(ALNUM, 24)), ["CENSUS_API_KEY"], host="app.getcensus.com"),
    P("fivetran", AN, ctx(ALNUM, 32), ["FIVETRAN_API_SECRET"], host="api.fivetran.com", objid=ctx(ALNUM, 16)),
    P("airbyte", AN, jwt({"iss": "airbyte", "sub": lambda r: uuid().make(r), "roles": ["ORGANIZATION_ADMIN"]}),
      ["AIRBYTE_API_KEY"], host="api.airbyte.com"),
    P("dbt-cloud", AN, tok("dbtc_", R(B64U, 56)), ["DBT_CLOUD_API_TOKEN"], host="cloud.getdbt.com",
      objid=ctx(DIGITS, 6)),
    P("looker", AN, ctx(ALNUM, 24), ["LOOKERSDK_CLIENT_SECRET"], host="acme.cloud.looker.com"),
    P("metabase", AN, tok("mb_", R(B64, 43), "="), ["METABASE_API_KEY"], host="metabase.internal.example.net",
      header=("x-api-key", "")),
    P("mode", AN, ctx(HEX, 32), ["MODE_API_SECRET"], host="app.mode.com"),
    P("keen", AN, ctx(HEXU, 64), ["KEEN_MASTER_KEY", "KEEN_WRITE_KEY"], host="api.keen.io"),
]
