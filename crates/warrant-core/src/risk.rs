//! Risk scores, explained point by point.

use serde::{Deserialize, Serialize};

/// One contribution to a risk score, with the reason it was counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskComponent {
    /// `blast_radius` or `exposure`.
    pub factor: String,
    pub label: String,
    pub points: f64,
    pub explanation: String,
}

/// Risk of one identity on a 0–100 scale: how much damage it could do (blast radius) times how
/// likely it is to be abused (exposure).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RiskScore {
    pub score: f64,
    /// 0–100: privilege × resource sensitivity, including what it can reach through trust edges.
    pub blast_radius: f64,
    /// 0–100: from findings (age, no rotation, no owner, leaks, …).
    pub exposure: f64,
    pub components: Vec<RiskComponent>,
}
