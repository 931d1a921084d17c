//! What every parser needs besides the bytes.

use warrant_core::Fingerprinter;

/// Inputs shared by all parsers.
#[derive(Debug, Clone)]
pub struct ImportContext {
    /// Turns any secret value seen in input (MCP `env`, URIs with passwords, …) into a keyed
    /// fingerprint. Parsers must never keep the raw value.
    pub fingerprinter: Fingerprinter,
    /// Files larger than this are refused with an error naming the file.
    pub max_file_bytes: u64,
    /// Tag, label and annotation keys (without their namespace, any case) that name an owner.
    pub owner_keys: Vec<String>,
}

impl ImportContext {
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

    pub fn new(fingerprinter: Fingerprinter) -> ImportContext {
        ImportContext {
            fingerprinter,
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            owner_keys: crate::common::OWNER_KEYS
                .iter()
                .map(|k| k.to_string())
                .collect(),
        }
    }
}
