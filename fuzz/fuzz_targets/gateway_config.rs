#![no_main]
//! Fuzz target: any text is a gateway.toml or an error naming the file, never a panic; JSON
//! arguments convert to a Cedar value or a typed error.

use libfuzzer_sys::fuzz_target;
use warrant_gateway::{CedarValue, GatewayConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = GatewayConfig::from_toml(text, "gateway.toml") {
        assert!(e.to_string().starts_with("gateway.toml"));
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = CedarValue::from_arguments(&value).map(|v| v.to_restricted());
    }
});
