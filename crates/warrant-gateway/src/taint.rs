//! Taint and the Rule of Two: within one task, an agent may combine at most two of *untrusted
//! input* (it read content an attacker may control), *sensitive data* and *external action*
//! (send, write, pay) without a human's approval.
//!
//! Tools carry labels (from `gateway.toml`). A task's [`TaintState`] is the union of the labels of
//! the calls it has made; a call whose tool would complete the three (with the labels already
//! held) needs approval. A call whose tool has no label never does: it adds nothing to combine.
//! The state is a plain value: the caller keys it by task and persists it, so that gateway
//! processes agree.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A tool's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// The tool returns content an attacker may control (web fetch, email read, issue text).
    UntrustedInput,
    /// The tool reads sensitive data or systems (customer records, secrets, private repos).
    SensitiveData,
    /// The tool acts outside (send, write, pay, open a pull request).
    ExternalAction,
}

impl Label {
    pub const ALL: [Label; 3] = [
        Label::UntrustedInput,
        Label::SensitiveData,
        Label::ExternalAction,
    ];

    /// The name in configuration and in the policy context (`context.taint`).
    pub fn as_str(self) -> &'static str {
        match self {
            Label::UntrustedInput => "untrusted_input",
            Label::SensitiveData => "sensitive_data",
            Label::ExternalAction => "external_action",
        }
    }
}

/// The labels a task has accumulated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaintState {
    labels: BTreeSet<Label>,
}

/// Whether a call may go ahead under the Rule of Two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaintVerdict {
    Allowed,
    RequiresApproval { reason: String },
}

impl TaintState {
    pub fn new() -> TaintState {
        TaintState::default()
    }

    pub fn labels(&self) -> impl Iterator<Item = Label> + '_ {
        self.labels.iter().copied()
    }

    pub fn has(&self, label: Label) -> bool {
        self.labels.contains(&label)
    }

    /// Whether a call to a tool with `tool_labels` may proceed without approval.
    pub fn check(&self, tool_labels: &BTreeSet<Label>) -> TaintVerdict {
        if tool_labels.is_empty() {
            return TaintVerdict::Allowed;
        }
        let combined: BTreeSet<Label> = self.labels.union(tool_labels).copied().collect();
        if combined.len() < Label::ALL.len() {
            return TaintVerdict::Allowed;
        }
        let held: Vec<&str> = self.labels.iter().map(|l| l.as_str()).collect();
        let adds: Vec<&str> = tool_labels
            .difference(&self.labels)
            .map(|l| l.as_str())
            .collect();
        let reason = if held.is_empty() || adds.is_empty() {
            "this call combines untrusted input, sensitive data and an external action in one task (Rule of Two): it needs approval".to_string()
        } else {
            format!(
                "this task has already combined {}; adding {} would combine all three of untrusted input, sensitive data and external action (Rule of Two): it needs approval",
                held.join(" and "),
                adds.join(" and ")
            )
        };
        TaintVerdict::RequiresApproval { reason }
    }

    /// Records a call that was made (allowed, or approved): its tool's labels join the task's.
    pub fn record(&mut self, tool_labels: &BTreeSet<Label>) {
        self.labels.extend(tool_labels.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &[Label]) -> BTreeSet<Label> {
        labels.iter().copied().collect()
    }

    #[test]
    fn two_legs_pass_the_third_needs_approval() {
        let mut state = TaintState::new();
        let fetch = set(&[Label::UntrustedInput]);
        let crm = set(&[Label::SensitiveData]);
        let send = set(&[Label::ExternalAction]);
        assert_eq!(state.check(&fetch), TaintVerdict::Allowed);
        state.record(&fetch);
        assert_eq!(state.check(&crm), TaintVerdict::Allowed);
        state.record(&crm);
        assert!(
            matches!(state.check(&send), TaintVerdict::RequiresApproval { reason } if reason.contains("external_action"))
        );
        // Tools without labels, or whose labels the task already holds, add nothing.
        assert_eq!(state.check(&set(&[])), TaintVerdict::Allowed);
        assert_eq!(state.check(&fetch), TaintVerdict::Allowed);
    }

    #[test]
    fn one_tool_with_all_three_labels_needs_approval() {
        let state = TaintState::new();
        assert!(matches!(
            state.check(&set(&Label::ALL)),
            TaintVerdict::RequiresApproval { .. }
        ));
    }

    #[test]
    fn state_round_trips_as_json() {
        let mut state = TaintState::new();
        state.record(&set(&[Label::SensitiveData]));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"labels":["sensitive_data"]}"#);
        assert_eq!(serde_json::from_str::<TaintState>(&json).unwrap(), state);
    }
}
