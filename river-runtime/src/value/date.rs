//! [`Date`]: a JavaScript `Date`, carried as a msgpack timestamp.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ext::{self, ExtValue};

/// The error text for a Date over the JSON codec.
pub(crate) const DATE_OVER_JSON: &str =
    "Date cannot travel over the JSON codec: the reference encodes it as {}";

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// A point in time: a JavaScript `Date` over msgpack.
///
/// Stored losslessly as whole seconds since the Unix epoch (floored) plus nanoseconds
/// (`0..1e9`), so any msgpack timestamp round-trips. JavaScript dates have millisecond
/// resolution; [`Date::from_millis`] and [`Date::millis`] convert.
///
/// - msgpack: the timestamp extension −1, encoded exactly as `@msgpack/msgpack` encodes a
///   `Date`: timestamp32 (`d6 ff <u32 sec>`) when there are no nanoseconds and
///   `0 ≤ sec < 2^32`; timestamp64 (`d7 ff <(nsec << 34) | sec>`) when `0 ≤ sec < 2^34`;
///   timestamp96 (`c7 0c ff <u32 nsec> <i64 sec>`) otherwise. All three decode.
/// - JSON: not representable. The reference's JSON codec turns a `Date` into `{}`, which
///   its own validation then rejects, so serializing a `Date` with the JSON codec fails,
///   and so does decoding one.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    secs: i64,
    nanos: u32,
}

impl Date {
    /// The Unix epoch, `1970-01-01T00:00:00.000Z`.
    pub const UNIX_EPOCH: Date = Date { secs: 0, nanos: 0 };

    /// From milliseconds since the Unix epoch (JavaScript's `new Date(ms)`).
    pub fn from_millis(ms: i64) -> Date {
        Date {
            secs: ms.div_euclid(1000),
            // rem_euclid is in 0..1000, so this is below 1e9.
            nanos: (ms.rem_euclid(1000) as u32) * 1_000_000,
        }
    }

    /// From seconds since the epoch and nanoseconds within the second; `None` when
    /// `nanos ≥ 1e9`.
    pub fn from_parts(secs: i64, nanos: u32) -> Option<Date> {
        (nanos < NANOS_PER_SEC).then_some(Date { secs, nanos })
    }

    /// The current time.
    pub fn now() -> Date {
        Date::from(SystemTime::now())
    }

    /// Milliseconds since the Unix epoch, floored (JavaScript's `getTime()`); saturates
    /// at the `i64` range.
    pub fn millis(&self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Whole seconds since the epoch (floored, so negative for dates before 1970).
    pub fn secs(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second, `0..1e9`.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// As a `SystemTime`; `None` when outside the range the platform can represent.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        if self.secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::new(self.secs.unsigned_abs(), self.nanos))
        } else {
            let back = Duration::new(self.secs.unsigned_abs(), 0);
            UNIX_EPOCH
                .checked_sub(back)?
                .checked_add(Duration::new(0, self.nanos))
        }
    }

    /// Formats like JavaScript's `toISOString()`: `YYYY-MM-DDTHH:mm:ss.sssZ` (years
    /// outside 0..=9999 as `±YYYYYY`); sub-millisecond precision is dropped.
    pub fn to_iso_string(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let secs_of_day = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
        let ms = self.nanos / 1_000_000;
        let year = if (0..=9999).contains(&year) {
            format!("{year:04}")
        } else if year < 0 {
            format!("-{:06}", year.unsigned_abs())
        } else {
            format!("+{year:06}")
        };
        format!("{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }

    /// The msgpack timestamp extension data, as `@msgpack/msgpack` writes it.
    pub(crate) fn timestamp_data(&self, out: &mut [u8; 12]) -> usize {
        let (sec, nsec) = (self.secs, self.nanos);
        if (0..=0x3_ffff_ffff).contains(&sec) {
            if nsec == 0 && sec <= 0xffff_ffff {
                out[..4].copy_from_slice(&(sec as u32).to_be_bytes());
                4
            } else {
                let v = (u64::from(nsec) << 34) | sec as u64;
                out[..8].copy_from_slice(&v.to_be_bytes());
                8
            }
        } else {
            out[..4].copy_from_slice(&nsec.to_be_bytes());
            out[4..].copy_from_slice(&sec.to_be_bytes());
            12
        }
    }

    /// Decodes msgpack timestamp extension data (4, 8 or 12 bytes).
    pub(crate) fn from_timestamp_data(data: &[u8]) -> Result<Date, String> {
        let (secs, nanos) = if let Ok(b) = <[u8; 4]>::try_from(data) {
            (i64::from(u32::from_be_bytes(b)), 0)
        } else if let Ok(b) = <[u8; 8]>::try_from(data) {
            let v = u64::from_be_bytes(b);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        } else if let (Some(n), Some(s)) = (
            data.get(..4).and_then(|n| <[u8; 4]>::try_from(n).ok()),
            data.get(4..).and_then(|s| <[u8; 8]>::try_from(s).ok()),
        ) {
            (i64::from_be_bytes(s), u32::from_be_bytes(n))
        } else {
            return Err(format!(
                "invalid msgpack timestamp: {} data bytes (expected 4, 8 or 12)",
                data.len()
            ));
        };
        Date::from_parts(secs, nanos)
            .ok_or_else(|| format!("invalid msgpack timestamp: {nanos} nanoseconds"))
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos % 1_000_000 == 0 {
            write!(f, "Date({})", self.to_iso_string())
        } else {
            write!(f, "Date({}s + {}ns)", self.secs, self.nanos)
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_string())
    }
}

impl From<SystemTime> for Date {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Date {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
                match d.subsec_nanos() {
                    0 => Date { secs, nanos: 0 },
                    n => Date {
                        secs: secs.saturating_sub(1),
                        nanos: NANOS_PER_SEC - n,
                    },
                }
            }
        }
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return Err(serde::ser::Error::custom(DATE_OVER_JSON));
        }
        let mut buf = [0u8; 12];
        let len = self.timestamp_data(&mut buf);
        let data = buf.get(..len).unwrap_or(&buf);
        ext::Ext {
            tag: ext::EXT_TIMESTAMP,
            data,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DateVisitor)
    }
}

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Date (msgpack timestamp extension -1)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Date, D::Error> {
        match ext::deserialize_ext(d)? {
            ExtValue::Date(date) => Ok(date),
            ExtValue::BigInt(_) => Err(serde::de::Error::custom("expected a Date, found a bigint")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Date, A::Error> {
        Err(serde::de::Error::custom(DATE_OVER_JSON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_and_floor() {
        for ms in [
            0,
            1,
            999,
            1000,
            -1,
            -999,
            -1000,
            -1001,
            1_709_210_096_789,
            -62_135_596_800_000,
        ] {
            assert_eq!(Date::from_millis(ms).millis(), ms);
        }
        let d = Date::from_millis(-1);
        assert_eq!((d.secs(), d.subsec_nanos()), (-1, 999_000_000));
    }

    #[test]
    fn iso_strings_match_javascript() {
        assert_eq!(
            Date::from_millis(0).to_iso_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Date::from_millis(1_709_210_096_789).to_iso_string(),
            "2024-02-29T12:34:56.789Z"
        );
        assert_eq!(
            Date::from_millis(-1).to_iso_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Date::from_millis(-62_198_755_200_000).to_iso_string(),
            "-000001-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Date::from_millis(8_640_000_000_000_000).to_iso_string(),
            "+275760-09-13T00:00:00.000Z"
        );
    }

    #[test]
    fn system_time_round_trip() {
        for ms in [0i64, 1234, -1234, 1_709_210_096_789] {
            let d = Date::from_millis(ms);
            let t = d.to_system_time().unwrap();
            assert_eq!(Date::from(t), d);
        }
    }

    #[test]
    fn timestamp_forms() {
        let enc = |d: Date| {
            let mut b = [0; 12];
            let n = d.timestamp_data(&mut b);
            b[..n].to_vec()
        };
        assert_eq!(enc(Date::from_millis(1000)), vec![0, 0, 0, 1]);
        // 1.5 s: timestamp64 with nsec = 5e8.
        let t64 = enc(Date::from_millis(1500));
        assert_eq!(t64.len(), 8);
        assert_eq!(
            u64::from_be_bytes(t64.clone().try_into().unwrap()),
            (500_000_000u64 << 34) | 1
        );
        // 2^32 s exactly: too big for timestamp32.
        assert_eq!(enc(Date::from_parts(1 << 32, 0).unwrap()).len(), 8);
        // Negative: timestamp96.
        let t96 = enc(Date::from_millis(-1));
        assert_eq!(
            t96,
            [
                &999_000_000u32.to_be_bytes()[..],
                &(-1i64).to_be_bytes()[..]
            ]
            .concat()
        );
        for d in [
            Date::from_millis(1000),
            Date::from_millis(1500),
            Date::from_millis(-1),
            Date::from_parts(1 << 40, 7).unwrap(),
        ] {
            assert_eq!(Date::from_timestamp_data(&enc(d)).unwrap(), d);
        }
        assert!(Date::from_timestamp_data(&[0; 5]).is_err());
        assert!(
            Date::from_timestamp_data(&[0xff; 8]).is_err(),
            "nsec above 1e9"
        );
    }
}
