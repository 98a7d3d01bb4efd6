//! String `format`s. TypeBox checks a format only when it is registered; the formats
//! below are the ones TypeBox registers by default, checked the way it checks them.
//! A format nobody registered fails every string, as in TypeBox.

/// A string format. Names TypeBox registers are checked; any other name passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Format(String);

impl Format {
    pub(crate) fn new(name: &str) -> Format {
        Format(name.to_string())
    }

    /// The format's name.
    pub(crate) fn name(&self) -> &str {
        &self.0
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        match self.0.as_str() {
            "email" => is_email(s, false),
            "idn-email" => is_email(s, true),
            "uuid" => is_uuid(s),
            "date-time" => is_date_time(s),
            "date" => is_date(s),
            "time" => is_time(s),
            "duration" => is_duration(s),
            "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok() && !has_leading_zero(s),
            "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
            "uri" => is_uri(s, false),
            "iri" => is_uri(s, true),
            "url" => is_url(s),
            "uri-reference" => is_reference(s, false),
            "iri-reference" => is_reference(s, true),
            "uri-template" => is_uri_template(s),
            "hostname" => is_hostname(s, false),
            "idn-hostname" => is_hostname(s, true),
            "regex" => is_regex(s),
            "json-pointer" => is_json_pointer(s),
            "json-pointer-uri-fragment" => s
                .strip_prefix('#')
                .is_some_and(|rest| is_json_pointer(&percent_decoded(rest))),
            "relative-json-pointer" => is_relative_json_pointer(s),
            // TypeBox passes formats nobody registered.
            _ => true,
        }
    }
}

fn has_leading_zero(s: &str) -> bool {
    s.split('.').any(|p| p.len() > 1 && p.starts_with('0'))
}

fn is_email(s: &str, idn: bool) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || "!#$%&'*+/=?^_`{|}~.-".contains(c)
                || (idn && !c.is_ascii())
        })
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    local_ok && is_hostname(domain, idn) && domain.contains('.')
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `hh:mm:ss[.frac](Z|±hh:mm)`; a leap second (`:60`) only at 23:59 UTC.
fn is_time(s: &str) -> bool {
    let Some(i) = s.find(['Z', 'z', '+', '-']) else {
        return false;
    };
    let (clock, zone) = s.split_at(i);
    let offset_min: i64 = match zone {
        "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let parts: Vec<&str> = z[1..].split(':').collect();
            match parts.as_slice() {
                [h, m] => match (digits(h, 2), digits(m, 2)) {
                    (Some(h), Some(m)) if h < 24 && m < 60 => sign * i64::from(h * 60 + m),
                    _ => return false,
                },
                _ => return false,
            }
        }
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return false;
    };
    let (Some(h), Some(m), Some(sec)) = (digits(h, 2), digits(m, 2), digits(sec, 2)) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 60 {
        return false;
    }
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if sec == 60 {
        let utc = (i64::from(h * 60 + m) - offset_min).rem_euclid(1440);
        return utc == 23 * 60 + 59;
    }
    true
}

fn is_date_time(s: &str) -> bool {
    match s.split_once(['T', 't']) {
        Some((date, time)) => is_date(date) && is_time(time),
        None => false,
    }
}

/// ISO 8601 durations: `P[nY][nM][nW][nD][T[nH][nM][nS]]`, not empty, `T` not last.
fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let units_ok = |part: &str, units: &str| {
        let mut order = 0;
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && !num.is_empty()) {
                num.push(c);
                continue;
            }
            let Some(pos) = units.find(c) else {
                return false;
            };
            if num.is_empty() || pos < order {
                return false;
            }
            order = pos + 1;
            num.clear();
        }
        num.is_empty()
    };
    let date_ok = units_ok(date, "YMWD");
    let time_ok = time.is_none_or(|t| !t.is_empty() && units_ok(t, "HMS"));
    date_ok && time_ok && (!date.is_empty() || time.is_some())
}

fn scheme_len(s: &str) -> Option<usize> {
    let (scheme, _) = s.split_once(':')?;
    let ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then_some(scheme.len())
}

fn uri_chars_ok(s: &str, iri: bool) -> bool {
    !s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\' || (!iri && !c.is_ascii()))
}

fn is_uri(s: &str, iri: bool) -> bool {
    scheme_len(s).is_some() && uri_chars_ok(s, iri)
}

/// TypeBox 1.1.38's `url`: http, https or ftp, with a host.
fn is_url(s: &str) -> bool {
    match scheme_len(s) {
        Some(n)
            if matches!(
                s[..n].to_ascii_lowercase().as_str(),
                "http" | "https" | "ftp"
            ) =>
        {
            s[n + 1..]
                .strip_prefix("//")
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
                && uri_chars_ok(s, false)
        }
        _ => false,
    }
}

fn is_reference(s: &str, iri: bool) -> bool {
    uri_chars_ok(s, iri)
}

fn is_uri_template(s: &str) -> bool {
    let mut open = false;
    for c in s.chars() {
        match c {
            '{' if open => return false,
            '{' => open = true,
            '}' if !open => return false,
            '}' => open = false,
            c if c.is_whitespace() => return false,
            _ => {}
        }
    }
    !open
}

fn is_hostname(s: &str, idn: bool) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || c == '-'
                        || (idn && !c.is_ascii() && c.is_alphanumeric())
                })
        })
}

/// Whether `s` is an ECMAScript regular expression: what the runtime compiles, plus
/// the lookaround and backreferences JavaScript has and the `regex` crate lacks.
fn is_regex(s: &str) -> bool {
    match super::pattern::compile(s) {
        Ok(_) => true,
        Err(e) => e.contains("cannot evaluate") && balanced(s),
    }
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn is_json_pointer(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if !s.starts_with('/') {
        return false;
    }
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, c)| *c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

fn percent_decoded(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_relative_json_pointer(s: &str) -> bool {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, rest) = s.split_at(end);
    let num_ok = !num.is_empty() && (num == "0" || !num.starts_with('0'));
    num_ok && (rest == "#" || is_json_pointer(rest))
}
