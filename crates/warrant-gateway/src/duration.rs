//! Durations as people write them in flags and configuration: `90s`, `15m`, `2h`, `7d`.

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: a whole number followed by s, m, h or d (e.g. 15m)")]
pub struct DurationError {
    pub text: String,
}

/// Parses `15m` and the like into seconds (at least one second, at most 10 years).
pub fn parse_seconds(text: &str) -> Result<i64, DurationError> {
    let refuse = || DurationError {
        text: text.to_string(),
    };
    let trimmed = text.trim();
    let unit_at = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(refuse)?;
    let (digits, unit) = trimmed.split_at(unit_at);
    let n: i64 = digits.parse().map_err(|_| refuse())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(refuse()),
    };
    let seconds = n.checked_mul(scale).ok_or_else(refuse)?;
    if (1..=10 * 366 * 86_400).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_refuses_the_rest() {
        assert_eq!(parse_seconds("15m"), Ok(900));
        assert_eq!(parse_seconds("2h"), Ok(7_200));
        assert_eq!(parse_seconds("1d"), Ok(86_400));
        for bad in [
            "",
            "15",
            "m",
            "0s",
            "1.5h",
            "-1m",
            "15 m",
            "99999999999999999d",
        ] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
