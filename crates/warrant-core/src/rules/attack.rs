//! MITRE ATT&CK identifiers as types: tactics by their short names, techniques by validated id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::UnknownValueError;

/// An ATT&CK Enterprise tactic. It serialises to ATT&CK's short name (`defense-evasion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tactic {
    Reconnaissance,
    ResourceDevelopment,
    InitialAccess,
    Execution,
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    CommandAndControl,
    Exfiltration,
    Impact,
}

impl Tactic {
    pub const ALL: [Tactic; 14] = [
        Tactic::Reconnaissance,
        Tactic::ResourceDevelopment,
        Tactic::InitialAccess,
        Tactic::Execution,
        Tactic::Persistence,
        Tactic::PrivilegeEscalation,
        Tactic::DefenseEvasion,
        Tactic::CredentialAccess,
        Tactic::Discovery,
        Tactic::LateralMovement,
        Tactic::Collection,
        Tactic::CommandAndControl,
        Tactic::Exfiltration,
        Tactic::Impact,
    ];

    /// ATT&CK's short name, e.g. `privilege-escalation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tactic::Reconnaissance => "reconnaissance",
            Tactic::ResourceDevelopment => "resource-development",
            Tactic::InitialAccess => "initial-access",
            Tactic::Execution => "execution",
            Tactic::Persistence => "persistence",
            Tactic::PrivilegeEscalation => "privilege-escalation",
            Tactic::DefenseEvasion => "defense-evasion",
            Tactic::CredentialAccess => "credential-access",
            Tactic::Discovery => "discovery",
            Tactic::LateralMovement => "lateral-movement",
            Tactic::Collection => "collection",
            Tactic::CommandAndControl => "command-and-control",
            Tactic::Exfiltration => "exfiltration",
            Tactic::Impact => "impact",
        }
    }

    /// ATT&CK's tactic id, e.g. `TA0004`.
    pub fn id(self) -> &'static str {
        match self {
            Tactic::Reconnaissance => "TA0043",
            Tactic::ResourceDevelopment => "TA0042",
            Tactic::InitialAccess => "TA0001",
            Tactic::Execution => "TA0002",
            Tactic::Persistence => "TA0003",
            Tactic::PrivilegeEscalation => "TA0004",
            Tactic::DefenseEvasion => "TA0005",
            Tactic::CredentialAccess => "TA0006",
            Tactic::Discovery => "TA0007",
            Tactic::LateralMovement => "TA0008",
            Tactic::Collection => "TA0009",
            Tactic::CommandAndControl => "TA0011",
            Tactic::Exfiltration => "TA0010",
            Tactic::Impact => "TA0040",
        }
    }
}

impl fmt::Display for Tactic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tactic {
    type Err = UnknownValueError;
    /// Accepts the short name (`defense-evasion`) or the id (`TA0005`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Tactic::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s) || t.id().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownValueError {
                what: "ATT&CK tactic",
                value: s.to_string(),
                expected: "an ATT&CK Enterprise tactic short name (persistence, defense-evasion, …) or id (TA0003)",
            })
    }
}

impl Serialize for Tactic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tactic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An ATT&CK technique or sub-technique id, `T1098` or `T1098.001`. Only well-formed ids can be
/// built: [`Technique::parse`] checks the shape, and the [`technique!`](crate::technique) macro
/// checks it when the program is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Technique {
    number: u16,
    /// Sub-technique number; 0 for a technique.
    sub: u16,
}

const fn digit(byte: u8) -> Option<u16> {
    if byte.is_ascii_digit() {
        Some((byte - b'0') as u16)
    } else {
        None
    }
}

const fn number(digits: &[u8]) -> Option<u16> {
    let mut value = 0u16;
    let mut rest = digits;
    while let [first, tail @ ..] = rest {
        match digit(*first) {
            Some(d) => value = value * 10 + d,
            None => return None,
        }
        rest = tail;
    }
    Some(value)
}

impl Technique {
    /// Parses `T` followed by four digits, optionally `.` and three digits.
    pub const fn parse(text: &str) -> Option<Technique> {
        match text.as_bytes() {
            [b'T', a, b, c, d] => match number(&[*a, *b, *c, *d]) {
                Some(number) => Some(Technique { number, sub: 0 }),
                None => None,
            },
            [b'T', a, b, c, d, b'.', e, f, g] => {
                match (number(&[*a, *b, *c, *d]), number(&[*e, *f, *g])) {
                    (Some(number), Some(sub)) if sub > 0 => Some(Technique { number, sub }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The parent technique of a sub-technique (`T1098.001` → `T1098`); itself otherwise.
    pub fn parent(self) -> Technique {
        Technique {
            number: self.number,
            sub: 0,
        }
    }

    pub fn is_sub_technique(self) -> bool {
        self.sub != 0
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sub == 0 {
            write!(f, "T{:04}", self.number)
        } else {
            write!(f, "T{:04}.{:03}", self.number, self.sub)
        }
    }
}

impl FromStr for Technique {
    type Err = UnknownValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Technique::parse(s.trim()).ok_or_else(|| UnknownValueError {
            what: "ATT&CK technique",
            value: s.to_string(),
            expected: "an ATT&CK technique id such as T1098 or T1098.001",
        })
    }
}

impl Serialize for Technique {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Technique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A [`Technique`] from a literal id, checked when the program is compiled.
#[macro_export]
macro_rules! technique {
    ($id:literal) => {
        const {
            #[allow(
                clippy::panic,
                reason = "evaluated at compile time: a bad id fails the build"
            )]
            let technique = match $crate::rules::Technique::parse($id) {
                Some(technique) => technique,
                None => panic!(concat!("`", $id, "` is not an ATT&CK technique id")),
            };
            technique
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_parse_print_and_order_like_their_ids() {
        for id in ["T1098", "T1098.001", "T1562.008", "T0001"] {
            assert_eq!(
                id.parse::<Technique>().map(|t| t.to_string()),
                Ok(id.to_string())
            );
        }
        for bad in [
            "T198",
            "1098",
            "T1098.1",
            "T1098.000",
            "T10980",
            "t1098",
            "T1098.00a",
        ] {
            assert!(bad.parse::<Technique>().is_err(), "{bad}");
        }
        let sub = technique!("T1098.001");
        assert!(technique!("T1098") < sub && sub < technique!("T1136"));
        assert_eq!(sub.parent(), technique!("T1098"));
        assert_eq!(
            serde_json::to_string(&sub).ok().as_deref(),
            Some("\"T1098.001\"")
        );
    }

    #[test]
    fn tactics_round_trip_by_name_and_id() {
        for tactic in Tactic::ALL {
            assert_eq!(tactic.as_str().parse::<Tactic>(), Ok(tactic));
            assert_eq!(tactic.id().parse::<Tactic>(), Ok(tactic));
        }
        assert!("defence-evasion".parse::<Tactic>().is_err());
        assert_eq!(
            serde_json::to_string(&Tactic::PrivilegeEscalation)
                .ok()
                .as_deref(),
            Some("\"privilege-escalation\"")
        );
    }
}
