//! Small serde helpers that let records be parsed from borrowed bytes, tolerate fields whose
//! type varies between producers, and parse timestamps quickly.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use warrant_core::Timestamp;

/// A required string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An optional string that is `None` when absent, null, or of another type (producers differ
/// on the type of the same field; a surprising type must not reject a whole record).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Opt<'a>(pub Option<Cow<'a, str>>);

impl<'a> Opt<'a> {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Owned copy, `None` for empty strings.
    pub fn owned(&self) -> Option<String> {
        self.0
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

struct OptVisitor;

impl<'de> Visitor<'de> for OptVisitor {
    type Value = Opt<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Opt(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Opt(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Opt(Some(Cow::Owned(v))))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Opt(None))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Opt(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Opt(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Opt(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Opt(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Opt(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Opt(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Opt(None))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Opt<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OptVisitor)
    }
}

/// `true`/`false` as a JSON boolean or string; anything else is `None`.
pub(crate) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Opt::deserialize(LenientBool(d))?;
    Ok(match value.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// Presents JSON booleans to [`OptVisitor`] as strings so one visitor serves both spellings.
struct LenientBool<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for LenientBool<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        struct B<V>(V);
        impl<'de, V: Visitor<'de>> Visitor<'de> for B<V> {
            type Value = V::Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                self.0.visit_borrowed_str(if v { "true" } else { "false" })
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                self.0.visit_borrowed_str(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                self.0.visit_str(v)
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                self.0.visit_string(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.0.visit_i64(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.0.visit_u64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                self.0.visit_f64(v)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                self.0.visit_unit()
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                self.0.visit_none()
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                self.0.visit_seq(seq)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                self.0.visit_map(map)
            }
        }
        self.0.deserialize_any(B(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// An object parsed as `T`; `None` when the value is null or not an object (CloudTrail's
/// `requestParameters` and `responseElements` are sometimes null or strings).
#[inline]
pub(crate) fn lenient_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        #[inline]
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// RFC 3339 time; a fast path for the `YYYY-MM-DDTHH:MM:SSZ` form CloudTrail writes.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    // A fixed-size array: its constant indexes are checked at compile time.
    if let Ok(b) = <&[u8; 20]>::try_from(text.as_bytes())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[19] == b'Z'
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut n = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + u32::from(c - b'0');
            }
            Some(n)
        };
        if b[13] == b':' && b[16] == b':' {
            let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
            let time = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
            return Some(Utc.from_utc_datetime(&time));
        }
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn from_millis(ms: i64) -> Option<Timestamp> {
    DateTime::from_timestamp_millis(ms)
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn from_nanos(ns: u64) -> Option<Timestamp> {
    let secs = i64::try_from(ns / 1_000_000_000).ok()?;
    DateTime::from_timestamp(secs, (ns % 1_000_000_000) as u32)
}

/// A short, stable id for records that carry none, so re-ingesting the same record dedups.
pub(crate) fn content_id(prefix: &str, bytes: &[u8]) -> String {
    // FNV-1a: deterministic across runs and Rust versions, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{prefix}:{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_slow_time_paths_agree() {
        let fast = parse_time("2023-07-10T12:11:15Z").unwrap();
        let slow = DateTime::parse_from_rfc3339("2023-07-10T12:11:15Z").unwrap();
        assert_eq!(fast, slow);
        assert!(parse_time("2023-02-30T12:11:15Z").is_none());
        assert!(parse_time("2023-07-10T12:11:15.123+02:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn lenient_values() {
        #[derive(serde::Deserialize)]
        struct T<'a> {
            #[serde(borrow, default)]
            a: Opt<'a>,
            #[serde(default, deserialize_with = "lenient_bool")]
            b: Option<bool>,
        }
        let t: T = serde_json::from_str(r#"{"a":{"x":[1]},"b":"true"}"#).unwrap();
        assert_eq!(t.a.0, None);
        assert_eq!(t.b, Some(true));
        let t: T = serde_json::from_str(r#"{"a":"s","b":false}"#).unwrap();
        assert_eq!(t.a.as_deref(), Some("s"));
        assert!(matches!(t.a.0, Some(Cow::Borrowed(_))));
        assert_eq!(t.b, Some(false));
    }
}
