//! OAuth 2.1 access tokens (the MCP authorization specification's resource server): JWTs
//! signed by the configured issuer, checked against the issuer's JWKS.
//!
//! The keys come from `oauth.jwks_url`, else from the `jwks_uri` of the issuer's metadata
//! (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID discovery), whose `issuer`
//! must be the configured one. They are cached: fetched again when older than `jwks_max_age`,
//! or when a token names an unknown `kid` (a rotation) and the last fetch is older than
//! `jwks_min_refetch`, so a stream of bad tokens cannot make the gateway hammer the issuer.
//!
//! A token is accepted when its signature verifies with an asymmetric algorithm of the
//! allow-list under a key of the set, its `iss` equals the issuer exactly, its `aud` names the
//! gateway as the resource (RFC 8707): one of the resource URLs its protected-resource
//! metadata advertises, the gateway's base URL (every server) or the endpoint of the server
//! called (`BASE/mcp/NAME`, that server only), and `exp` (required) and `nbf` hold with the
//! leeway.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};
use warrant_gateway::config::OAuthConfig;

/// The largest metadata or JWKS document read.
const DOCUMENT_LIMIT: usize = 256 * 1024;
/// How long one fetch of metadata or keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an access token is refused, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the access token is not a JWT")]
    NotJwt,
    #[error("the access token's algorithm `{0}` is not accepted")]
    Algorithm(String),
    #[error("the access token is signed with a key the issuer does not publish (kid {0})")]
    UnknownKey(String),
    #[error("the access token's signature does not verify")]
    Signature,
    #[error("the access token is from another issuer ({0})")]
    Issuer(String),
    #[error("the access token's audience is not this gateway (expected {0})")]
    Audience(String),
    #[error("the access token expired")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token has no `{0}` claim")]
    MissingClaim(String),
    /// The issuer's keys could not be fetched: the gateway cannot check any token.
    #[error("the issuer's keys are unavailable: {0}")]
    Keys(String),
}

/// Who an accepted access token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub agent: String,
    /// The task claim, when configured and present.
    pub task: Option<String>,
    /// The token's `jti`, when it has one.
    pub jti: Option<String>,
}

/// What the claims must say, apart from the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub issuer: String,
    /// Accepted audiences: any one of them in `aud` will do.
    pub audiences: BTreeSet<String>,
    pub leeway_seconds: i64,
    pub agent_claim: String,
    pub task_claim: Option<String>,
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are enough.
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| JwtError::MissingClaim(name.to_string())),
    }
}

/// Checks a verified token's claims at `now` and returns whom it names.
pub fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected,
    now: DateTime<Utc>,
) -> Result<Identity, JwtError> {
    let issuer = string_claim(claims, "iss").ok_or_else(|| JwtError::MissingClaim("iss".into()))?;
    if issuer != expected.issuer {
        return Err(JwtError::Issuer(issuer));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err(JwtError::MissingClaim("aud".into())),
    };
    if !audiences.iter().any(|a| expected.audiences.contains(*a)) {
        let wanted: Vec<&str> = expected.audiences.iter().map(String::as_str).collect();
        return Err(JwtError::Audience(wanted.join(" or ")));
    }
    let now = now.timestamp();
    let exp = time_claim(claims, "exp")?.ok_or_else(|| JwtError::MissingClaim("exp".into()))?;
    if now > exp.saturating_add(expected.leeway_seconds) {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = time_claim(claims, "nbf")?
        && now < nbf.saturating_sub(expected.leeway_seconds)
    {
        return Err(JwtError::NotYetValid);
    }
    let agent = string_claim(claims, &expected.agent_claim)
        .ok_or_else(|| JwtError::MissingClaim(expected.agent_claim.clone()))?;
    Ok(Identity {
        agent,
        task: expected
            .task_claim
            .as_deref()
            .and_then(|name| string_claim(claims, name)),
        jti: string_claim(claims, "jti"),
    })
}

/// Whether a key of this type may verify `alg` (an RSA key never checks an ECDSA signature,
/// and a symmetric key nothing).
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use Algorithm::*;
    let family_fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
        }
        AlgorithmParameters::EllipticCurve(_) => matches!(alg, ES256 | ES384),
        AlgorithmParameters::OctetKeyPair(_) => alg == EdDSA,
        // Symmetric keys, and key types this build does not know.
        _ => false,
    };
    let use_fits = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
    // A key that names its algorithm is used for that one only.
    let alg_fits = jwk
        .common
        .key_algorithm
        .is_none_or(|k| k == jsonwebtoken::jwk::KeyAlgorithm::from(alg));
    family_fits && use_fits && alg_fits
}

/// The keys of a JWKS document that this build can use (others, e.g. encryption keys of an
/// unknown type, are skipped rather than failing the whole set).
fn parse_jwks(document: &Value) -> Result<Vec<Jwk>, JwtError> {
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| JwtError::Keys("the JWKS has no `keys` array".into()))?;
    Ok(keys
        .iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .collect())
}

/// The metadata URLs of an issuer, in the order tried: RFC 8414 (the well-known segment goes
/// before the issuer's path), then OpenID discovery (appended to the issuer).
fn metadata_urls(issuer: &str) -> Result<Vec<String>, JwtError> {
    let url = reqwest::Url::parse(issuer)
        .map_err(|e| JwtError::Keys(format!("the issuer `{issuer}` is not a URL: {e}")))?;
    let path = url.path().trim_end_matches('/');
    let mut rfc8414 = url.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    Ok(vec![
        rfc8414.to_string(),
        format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
    ])
}

#[derive(Default)]
struct Fetches {
    /// The JWKS URL, once known (configured, or read from the issuer's metadata).
    jwks_url: Option<String>,
    last_attempt: Option<Instant>,
}

struct Keys {
    keys: Vec<Jwk>,
    fetched: Instant,
    /// Which fetch this is: a signature verified under one set counts under that set only.
    generation: u64,
}

/// A token whose signature verified, and under which key set.
struct Verified {
    claims: Map<String, Value>,
    generation: u64,
}

/// How many verified access tokens are kept (least recently used go first).
const VERIFIED_TOKENS: usize = 10_000;

/// Checks access tokens against one issuer.
pub struct OAuthVerifier {
    /// The claims' expectations, but for the audiences (which depend on the server called).
    expected: Expected,
    /// The gateway's public base URL (`server.resource`), without a final slash.
    resource: String,
    algorithms: Vec<Algorithm>,
    min_refetch: Duration,
    max_age: Duration,
    http: reqwest::Client,
    keys: RwLock<Option<Keys>>,
    /// Held while fetching, so concurrent requests wait for one fetch.
    fetches: Mutex<Fetches>,
    /// Access tokens whose signature verified, by the token's SHA-256: an agent presents the
    /// same token on every call. An entry counts only while the key set it was verified under
    /// is the current one (fetching the keys again, as on a rotation, empties it in effect);
    /// the claims (expiry, audience, …) are checked on every call all the same.
    verified: quick_cache::sync::Cache<[u8; 32], std::sync::Arc<Verified>>,
}

impl std::fmt::Debug for OAuthVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthVerifier")
            .field("issuer", &self.expected.issuer)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

fn seconds(text: &str, key: &str) -> Result<u64, String> {
    warrant_gateway::duration::parse_seconds(text)
        .map_err(|e| format!("oauth.{key}: {e}"))
        .and_then(|s| u64::try_from(s).map_err(|e| e.to_string()))
}

impl OAuthVerifier {
    /// A verifier for `config` on the gateway whose public base URL is `resource`.
    pub fn new(config: &OAuthConfig, resource: &str) -> Result<OAuthVerifier, String> {
        if resource.is_empty() {
            return Err("oauth needs server.resource (the audience tokens must name)".into());
        }
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err("jsonwebtoken has no crypto backend in this build".to_string());
        }
        let mut algorithms = Vec::new();
        for name in &config.algorithms {
            if !warrant_gateway::config::ASYMMETRIC_ALGORITHMS.contains(&name.as_str()) {
                return Err(format!("oauth.algorithms: `{name}` is not accepted"));
            }
            let alg: Algorithm = name
                .parse()
                .map_err(|_| format!("oauth.algorithms: `{name}` is not an algorithm"))?;
            algorithms.push(alg);
        }
        crate::upstream::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("building the HTTP client for the issuer: {e}"))?;
        Ok(OAuthVerifier {
            resource: resource.trim_end_matches('/').to_string(),
            expected: Expected {
                issuer: config.issuer.clone(),
                audiences: BTreeSet::new(),
                leeway_seconds: i64::try_from(seconds(&config.leeway, "leeway")?)
                    .map_err(|e| e.to_string())?,
                agent_claim: config.agent_claim.clone(),
                task_claim: config.task_claim.clone(),
            },
            algorithms,
            min_refetch: Duration::from_secs(seconds(
                &config.jwks_min_refetch,
                "jwks_min_refetch",
            )?),
            max_age: Duration::from_secs(seconds(&config.jwks_max_age, "jwks_max_age")?),
            http,
            keys: RwLock::new(None),
            verified: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
            fetches: Mutex::new(Fetches {
                jwks_url: config.jwks_url.clone(),
                last_attempt: None,
            }),
        })
    }

    /// Whether `token` looks like a JWT (three dot-separated parts), as opposed to a task token.
    pub fn is_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// The audiences a token for `server`'s endpoint may name.
    pub fn audiences(&self, server: &str) -> BTreeSet<String> {
        let base = &self.resource;
        [
            base.clone(),
            format!("{base}/"),
            format!("{base}/mcp/{server}"),
        ]
        .into()
    }

    /// Verifies `token`, presented to `server`'s endpoint at `now` (fetching the issuer's keys
    /// when needed).
    pub async fn verify(
        &self,
        token: &str,
        server: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, JwtError> {
        let expected = Expected {
            audiences: self.audiences(server),
            ..self.expected.clone()
        };
        let digest = crate::auth::token_digest(token);
        if let Some(verified) = self.verified.get(&digest) {
            let current = self.keys.read().await.as_ref().is_some_and(|keys| {
                keys.generation == verified.generation && keys.fetched.elapsed() < self.max_age
            });
            if current {
                return check_claims(&verified.claims, &expected, now);
            }
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::NotJwt)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(JwtError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.clone();
        let (key, generation) = match self.find_key(kid.as_deref(), header.alg, false).await? {
            Some(key) => key,
            // An unknown key: the issuer may have rotated. Fetch again (rate-limited).
            None => self
                .find_key(kid.as_deref(), header.alg, true)
                .await?
                .ok_or_else(|| JwtError::UnknownKey(kid.unwrap_or_else(|| "none".into())))?,
        };
        let decoding = DecodingKey::from_jwk(&key).map_err(|_| JwtError::Signature)?;
        let mut validation = Validation::new(header.alg);
        // The claims are checked below, against the gateway's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation)
            .map_err(|_| JwtError::Signature)?;
        let identity = check_claims(&data.claims, &expected, now)?;
        self.verified.insert(
            digest,
            std::sync::Arc::new(Verified {
                claims: data.claims,
                generation,
            }),
        );
        Ok(identity)
    }

    /// The key for `kid` (the only usable key when the token names none). `refetch` asks for a
    /// fresh set unless one was fetched within `jwks_min_refetch`.
    async fn find_key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        refetch: bool,
    ) -> Result<Option<(Jwk, u64)>, JwtError> {
        let (have_keys, stale) = match &*self.keys.read().await {
            Some(keys) => (true, refetch || keys.fetched.elapsed() >= self.max_age),
            None => (false, true),
        };
        if stale && let Err(error) = self.refresh(refetch).await {
            // The issuer is unreachable: keys it published are still its keys for now.
            if !have_keys {
                return Err(error);
            }
            tracing::warn!(issuer = %self.expected.issuer, error = %error, "keeping the issuer's keys: fetching them again failed");
        }
        let keys = self.keys.read().await;
        let Some(keys) = keys.as_ref() else {
            return Ok(None);
        };
        let fitting: Vec<&Jwk> = keys.keys.iter().filter(|k| key_fits(k, alg)).collect();
        let key = match kid {
            Some(kid) => fitting
                .into_iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .cloned(),
            None if fitting.len() == 1 => fitting.first().map(|k| (*k).clone()),
            None => None,
        };
        Ok(key.map(|key| (key, keys.generation)))
    }

    /// Fetches the key set, unless another request just did (or, for a rotation, one was
    /// fetched within `jwks_min_refetch`). A failure keeps the old keys.
    async fn refresh(&self, rotation: bool) -> Result<(), JwtError> {
        let mut fetches = self.fetches.lock().await;
        let have_keys = self.keys.read().await.is_some();
        if let Some(last) = fetches.last_attempt {
            let fresh = last.elapsed() < self.min_refetch;
            if fresh && (rotation || have_keys) {
                return if have_keys {
                    Ok(())
                } else {
                    Err(JwtError::Keys(
                        "the last fetch failed; retrying later".into(),
                    ))
                };
            }
        }
        fetches.last_attempt = Some(Instant::now());
        let jwks_url = match &fetches.jwks_url {
            Some(url) => url.clone(),
            None => {
                let url = self.discover().await?;
                fetches.jwks_url = Some(url.clone());
                url
            }
        };
        let document = self.fetch_json(&jwks_url).await?;
        let keys = parse_jwks(&document)?;
        tracing::info!(issuer = %self.expected.issuer, keys = keys.len(), "fetched the issuer's signing keys");
        let mut current = self.keys.write().await;
        let generation = current.as_ref().map_or(0, |k| k.generation + 1);
        *current = Some(Keys {
            keys,
            fetched: Instant::now(),
            generation,
        });
        Ok(())
    }

    /// The JWKS URL of the issuer's metadata.
    async fn discover(&self) -> Result<String, JwtError> {
        let mut problems = Vec::new();
        for url in metadata_urls(&self.expected.issuer)? {
            match self.fetch_json(&url).await {
                Ok(metadata) => {
                    // RFC 8414 §3.3: metadata for another issuer must not be used.
                    if metadata.get("issuer").and_then(Value::as_str)
                        != Some(self.expected.issuer.as_str())
                    {
                        return Err(JwtError::Keys(format!(
                            "{url} describes another issuer than {}",
                            self.expected.issuer
                        )));
                    }
                    return metadata
                        .get("jwks_uri")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| JwtError::Keys(format!("{url} names no jwks_uri")));
                }
                Err(error) => problems.push(error.to_string()),
            }
        }
        Err(JwtError::Keys(problems.join("; ")))
    }

    async fn fetch_json(&self, url: &str) -> Result<Value, JwtError> {
        let fail = |e: &dyn std::fmt::Display| JwtError::Keys(format!("{url}: {e}"));
        let mut response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| fail(&e))?;
        if !response.status().is_success() {
            return Err(fail(&format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
            if body.len() + chunk.len() > DOCUMENT_LIMIT {
                return Err(fail(&format!("larger than {DOCUMENT_LIMIT} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| fail(&e))
    }

    /// Uses `keys` as the fetched set (tests without an issuer).
    #[cfg(test)]
    async fn preload(&self, keys: Vec<Jwk>) {
        self.fetches.lock().await.last_attempt = Some(Instant::now());
        let mut current = self.keys.write().await;
        let generation = current.as_ref().map_or(0, |k| k.generation + 1);
        *current = Some(Keys {
            keys,
            fetched: Instant::now(),
            generation,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    /// Two Ed25519 keys made for these tests (PKCS#8 DER) and their public halves.
    const KEY_A: &str = "302e020100300506032b657004220420b0d9d2c5390ff02f2f3e91c47d294d19d540f216f6353cf606f30a451bcc03e8";
    const PUB_A: &str = "ggRXy1dyT2kQ8bwdffXxEWi4wpUHvHR9d-nWMWP1LGc";
    const KEY_B: &str = "302e020100300506032b6570042204203f494c386654e2e96c8c595fd35c983309af539bf39b7e374e38dbf3a84569fe";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn expected() -> Expected {
        Expected {
            issuer: "https://idp.example.com".into(),
            audiences: [
                "https://gw.example.com".into(),
                "https://gw.example.com/mcp/rust".into(),
            ]
            .into(),
            leeway_seconds: 60,
            agent_claim: "client_id".into(),
            task_claim: Some("task".into()),
        }
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "https://idp.example.com",
            "aud": "https://gw.example.com/mcp/rust",
            "exp": 2_000,
            "client_id": "bot",
            "jti": "j1",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.as_object().unwrap().clone()
    }

    #[test]
    fn claims_are_checked_exactly() {
        let e = expected();
        let ok = check_claims(&claims(json!({})), &e, at(1_000)).unwrap();
        assert_eq!(
            ok,
            Identity {
                agent: "bot".into(),
                task: None,
                jti: Some("j1".into())
            }
        );
        let with_task = check_claims(&claims(json!({"task": "ticket-1"})), &e, at(1_000)).unwrap();
        assert_eq!(with_task.task.as_deref(), Some("ticket-1"));
        // An audience array with the gateway among others is fine; without it, not.
        assert!(
            check_claims(
                &claims(json!({"aud": ["x", "https://gw.example.com"]})),
                &e,
                at(1_000)
            )
            .is_ok()
        );
        for (extra, now, error) in [
            (
                json!({"iss": "https://idp.example.com/"}),
                1_000,
                JwtError::Issuer("https://idp.example.com/".into()),
            ),
            (
                json!({"iss": "https://evil.example.com"}),
                1_000,
                JwtError::Issuer("https://evil.example.com".into()),
            ),
            (
                json!({"iss": null}),
                1_000,
                JwtError::MissingClaim("iss".into()),
            ),
            (
                json!({"aud": "https://gw.example.com/mcp/other"}),
                1_000,
                JwtError::Audience(
                    "https://gw.example.com or https://gw.example.com/mcp/rust".into(),
                ),
            ),
            (
                json!({"aud": null}),
                1_000,
                JwtError::MissingClaim("aud".into()),
            ),
            (
                json!({"exp": null}),
                1_000,
                JwtError::MissingClaim("exp".into()),
            ),
            (json!({}), 2_061, JwtError::Expired),
            (json!({"nbf": 1_100}), 1_000, JwtError::NotYetValid),
            (
                json!({"client_id": null}),
                1_000,
                JwtError::MissingClaim("client_id".into()),
            ),
            (
                json!({"client_id": ""}),
                1_000,
                JwtError::MissingClaim("client_id".into()),
            ),
        ] {
            assert_eq!(
                check_claims(&claims(extra.clone()), &e, at(now)),
                Err(error),
                "{extra}"
            );
        }
        // Within the leeway either side.
        assert!(check_claims(&claims(json!({})), &e, at(2_060)).is_ok());
        assert!(check_claims(&claims(json!({"nbf": 1_050})), &e, at(1_000)).is_ok());
    }

    fn jwk(kid: &str, x: &str, alg: Option<&str>) -> Jwk {
        let mut value = json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"});
        if let Some(alg) = alg {
            value["alg"] = json!(alg);
        }
        serde_json::from_value(value).unwrap()
    }

    fn sign(header: Header, key_hex: &str, claims: &Map<String, Value>) -> String {
        let key = EncodingKey::from_ed_der(&hex::decode(key_hex).unwrap());
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn verifier(algorithms: &[&str]) -> OAuthVerifier {
        let mut config = OAuthConfig::new("https://idp.example.com");
        config.agent_claim = "client_id".into();
        config.algorithms = algorithms.iter().map(|a| (*a).to_string()).collect();
        OAuthVerifier::new(&config, "https://gw.example.com/").unwrap()
    }

    fn eddsa(kid: &str) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        header
    }

    #[tokio::test]
    async fn signatures_verify_under_the_published_key_only() {
        let v = verifier(&["EdDSA"]);
        v.preload(vec![jwk("a", PUB_A, Some("EdDSA"))]).await;
        let now = at(1_000);
        let good = sign(eddsa("a"), KEY_A, &claims(json!({})));
        assert_eq!(v.verify(&good, "rust", now).await.unwrap().agent, "bot");
        // Signed by another key under the published kid.
        let forged = sign(eddsa("a"), KEY_B, &claims(json!({})));
        assert_eq!(
            v.verify(&forged, "rust", now).await,
            Err(JwtError::Signature)
        );
        // A kid the set lacks (the last fetch is recent: no refetch).
        let unknown = sign(eddsa("b"), KEY_B, &claims(json!({})));
        assert_eq!(
            v.verify(&unknown, "rust", now).await,
            Err(JwtError::UnknownKey("b".into()))
        );
        // A tampered payload.
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        parts[1] = sign(eddsa("a"), KEY_A, &claims(json!({"client_id": "admin"})))
            .split('.')
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(
            v.verify(&parts.join("."), "rust", now).await,
            Err(JwtError::Signature)
        );
        assert_eq!(
            v.verify("not-a-jwt", "rust", now).await,
            Err(JwtError::NotJwt)
        );
        // Minted for /mcp/rust: not for another server's endpoint.
        assert!(matches!(
            v.verify(&good, "time", now).await,
            Err(JwtError::Audience(_))
        ));
    }

    #[tokio::test]
    async fn a_verified_token_counts_under_its_key_set_only_and_its_claims_every_time() {
        let v = verifier(&["EdDSA"]);
        v.preload(vec![jwk("a", PUB_A, Some("EdDSA"))]).await;
        let good = sign(eddsa("a"), KEY_A, &claims(json!({})));
        assert_eq!(
            v.verify(&good, "rust", at(1_000)).await.unwrap().agent,
            "bot"
        );
        // Remembered: the claims are still checked on each call (expiry, audience).
        assert_eq!(
            v.verify(&good, "rust", at(1_500)).await.unwrap().agent,
            "bot"
        );
        assert_eq!(
            v.verify(&good, "rust", at(2_061)).await,
            Err(JwtError::Expired)
        );
        assert!(matches!(
            v.verify(&good, "time", at(1_000)).await,
            Err(JwtError::Audience(_))
        ));
        // The issuer's keys change (key `a` withdrawn): the token is verified again, and fails.
        v.preload(vec![jwk("b", PUB_A, Some("EdDSA"))]).await;
        assert_eq!(
            v.verify(&good, "rust", at(1_000)).await,
            Err(JwtError::UnknownKey("a".into()))
        );
    }

    #[tokio::test]
    async fn only_allowed_asymmetric_algorithms_pass() {
        let claims = claims(json!({}));
        let v = verifier(&["EdDSA"]);
        v.preload(vec![jwk("a", PUB_A, None)]).await;
        let good = sign(eddsa("a"), KEY_A, &claims);
        // `none`: the header {"alg":"none","kid":"a"}, a valid payload, no signature.
        let payload = good.split('.').nth(1).unwrap();
        let unsigned = format!("eyJhbGciOiJub25lIiwia2lkIjoiYSJ9.{payload}.");
        assert_eq!(
            v.verify(&unsigned, "rust", at(1_000)).await,
            Err(JwtError::NotJwt)
        );
        // HS256 with the public key's bytes as the secret (the classic confusion attack).
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("a".into());
        let confused = jsonwebtoken::encode(
            &hs,
            &claims,
            &EncodingKey::from_secret(PUB_A.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            v.verify(&confused, "rust", at(1_000)).await,
            Err(JwtError::Algorithm("HS256".into()))
        );
        // EdDSA is a fine algorithm, but not on this verifier's list.
        let rs_only = verifier(&["RS256"]);
        rs_only.preload(vec![jwk("a", PUB_A, None)]).await;
        assert_eq!(
            rs_only.verify(&good, "rust", at(1_000)).await,
            Err(JwtError::Algorithm("EdDSA".into()))
        );
        // A key that names another algorithm is not used for this one.
        let pinned = verifier(&["EdDSA"]);
        pinned.preload(vec![jwk("a", PUB_A, Some("RS256"))]).await;
        assert_eq!(
            pinned.verify(&good, "rust", at(1_000)).await,
            Err(JwtError::UnknownKey("a".into()))
        );
        let mut config = OAuthConfig::new("https://idp.example.com");
        config.algorithms = vec!["HS256".into()];
        assert!(OAuthVerifier::new(&config, "https://gw.example.com").is_err());
    }

    #[test]
    fn metadata_urls_follow_rfc_8414_then_openid() {
        assert_eq!(
            metadata_urls("https://idp.example.com").unwrap(),
            [
                "https://idp.example.com/.well-known/oauth-authorization-server",
                "https://idp.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("https://idp.example.com/tenant/a").unwrap(),
            [
                "https://idp.example.com/.well-known/oauth-authorization-server/tenant/a",
                "https://idp.example.com/tenant/a/.well-known/openid-configuration"
            ]
        );
        assert!(
            JwtError::Keys(String::new())
                .to_string()
                .contains("unavailable")
        );
        assert!(OAuthVerifier::is_jwt("a.b.c") && !OAuthVerifier::is_jwt("abc"));
        let v = verifier(&["EdDSA"]);
        assert_eq!(
            v.audiences("rust"),
            BTreeSet::from([
                "https://gw.example.com".to_string(),
                "https://gw.example.com/".to_string(),
                "https://gw.example.com/mcp/rust".to_string()
            ])
        );
    }

    #[test]
    fn unusable_keys_are_skipped() {
        let keys = parse_jwks(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": PUB_A, "kid": "a"},
            {"kty": "OKP", "crv": "Ed25519", "x": PUB_A, "kid": 7},
            {"kty": "weird", "kid": "w"},
        ]}))
        .unwrap();
        // The malformed key (a numeric kid) is skipped; the unknown type is kept but never fits.
        assert_eq!(keys.len(), 2);
        assert!(!key_fits(&keys[1], Algorithm::EdDSA) && !key_fits(&keys[1], Algorithm::RS256));
        assert!(parse_jwks(&json!({})).is_err());
        let enc: Jwk = serde_json::from_value(
            json!({"kty": "OKP", "crv": "Ed25519", "x": PUB_A, "kid": "e", "use": "enc"}),
        )
        .unwrap();
        assert!(!key_fits(&enc, Algorithm::EdDSA));
        assert!(key_fits(&keys[0], Algorithm::EdDSA));
        assert!(!key_fits(&keys[0], Algorithm::RS256));
    }
}
