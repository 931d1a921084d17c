//! Sign-in attempts are rate-limited per client address, on top of the per-account lockout:
//! the lockout stops guessing one account's password, this stops one address from trying
//! passwords across many accounts. The limit is generous enough for people behind one proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::state::ServerState;

/// Sign-in attempts one address may make in a burst, and then per minute.
pub const ATTEMPTS_PER_MINUTE: u32 = 10;

/// The limiter of sign-in attempts, keyed by client address.
pub struct SignInLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(ATTEMPTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        SignInLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }
}

impl std::fmt::Debug for SignInLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInLimiter").finish_non_exhaustive()
    }
}

impl SignInLimiter {
    /// Takes one attempt for `address`: `Err(seconds to wait)` when it has none left.
    pub fn attempt(&self, address: IpAddr) -> Result<(), u64> {
        // Forget addresses whose allowance is full again, so the map stays as small as the
        // set of recent callers.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }
}

/// The middleware on the sign-in routes: a `POST` beyond the address's allowance gets `429`
/// with `Retry-After`, before any password is checked.
pub async fn sign_in(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    // Without the connection's address (a request handed to the router directly, as tests
    // do) every attempt counts against one shared key.
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match state.sign_ins.attempt(address) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::warn!(%address, "sign-in attempts rate-limited");
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many sign-in attempts from this address: try again in {wait} s"),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}
