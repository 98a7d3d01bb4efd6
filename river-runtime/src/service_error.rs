//! Service errors: the errors a procedure declares in its schema (`errors`), as opposed
//! to River's four reserved protocol errors.
//!
//! - [`ServiceError`]: what the runtime needs from a procedure's error type.
//! - [`service_error!`](crate::service_error!): declares such a type as an enum with
//!   one variant per declared code plus `Unknown`. Generated code uses it for every
//!   procedure that declares errors.
//! - [`UndeclaredError`]: the shared error type of procedures that declare none.
//! - [`AnyServiceError`]: any code at all, for the untyped API.
//!
//! On the wire a service error is `{code, message, extras?}`. A code (or `extras`) the
//! type does not know never fails a call: it becomes the `Unknown` variant.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::value::Value;

/// Implemented by the error type of a procedure (generated code implements it for each
/// procedure's error enum through [`service_error!`](crate::service_error!)).
///
/// The runtime decodes an `Err` result whose code is not one of the four reserved codes
/// into `Self`. When the payload does not decode (for example a code added to the server
/// after this client was generated), it calls [`ServiceError::unknown`] instead of failing.
pub trait ServiceError: DeserializeOwned + Send + 'static {
    /// Builds the catch-all value for an error this type does not know.
    fn unknown(code: String, message: String, extras: Option<Value>) -> Self;
}

/// A service error of any shape: the catch-all used by the untyped API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnyServiceError {
    /// Error code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Extra structured data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

impl ServiceError for AnyServiceError {
    fn unknown(code: String, message: String, extras: Option<Value>) -> Self {
        AnyServiceError {
            code,
            message,
            extras,
        }
    }
}

impl fmt::Display for AnyServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AnyServiceError {}

/// Declares a procedure's service-error type: an enum with one struct variant per
/// declared error code, plus `Unknown { code, message, extras }` for every other code.
///
/// Each variant names its wire code and how it carries `extras`:
///
/// ```
/// river_runtime::service_error! {
///     /// Errors of `test.checkRange`.
///     pub enum CheckRangeError {
///         /// The number is below the range.
///         TooSmall = "TOO_SMALL" { extras: Limits },
///         /// The number is above the range.
///         TooBig = "TOO_BIG" { extras?: Limits },
///         /// The range is empty.
///         Empty = "EMPTY",
///     }
/// }
///
/// /// Structured details.
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// pub struct Limits {
///     /// The bound that was crossed.
///     pub bound: i64,
/// }
///
/// let e = CheckRangeError::TooSmall { message: "too small".into(), extras: Limits { bound: 0 } };
/// assert_eq!(e.code(), "TOO_SMALL");
/// assert_eq!(e.to_string(), "TOO_SMALL: too small");
/// ```
///
/// - `Name = "CODE"`: `Name { message }`; `extras`, if sent, are ignored.
/// - `Name = "CODE" { extras: T }`: `Name { message, extras: T }`; `extras` is required.
/// - `Name = "CODE" { extras?: T }`: `Name { message, extras: Option<T> }`.
///
/// The type derives `Clone`, `Debug` and `PartialEq`, has `code()` and `message()`,
/// implements `Display` (`CODE: message`), `std::error::Error`, [`ServiceError`] and
/// serde's traits in the wire shape `{code, message, extras?}`. Deserializing fails for
/// a code the type does not know and for `extras` that do not match; the runtime then
/// keeps the error as `Unknown`, so a call never fails because of it.
#[macro_export]
macro_rules! service_error {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vattr:meta])*
                $variant:ident = $code:literal
                $( { extras: $ety:ty } )?
                $( { extras ?: $oty:ty } )?
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[doc = ""]
        #[doc = concat!(
            "River's reserved errors (`UNCAUGHT_ERROR`, `UNEXPECTED_DISCONNECT`, ",
            "`INVALID_REQUEST`, `CANCEL`) are reported by the runtime, not here; codes ",
            "this type does not know become [`", stringify!($name), "::Unknown`]."
        )]
        #[derive(Clone, Debug, PartialEq)]
        $vis enum $name {
            $(
                $(#[$vattr])*
                $variant {
                    /// Human-readable message.
                    message: ::std::string::String,
                    $(
                        /// Structured details.
                        extras: $ety,
                    )?
                    $(
                        /// Structured details, if sent.
                        extras: ::std::option::Option<$oty>,
                    )?
                },
            )*
            /// An error code this client does not know (for example one added to the
            /// service after this code was generated).
            Unknown {
                /// The error code.
                code: ::std::string::String,
                /// Human-readable message.
                message: ::std::string::String,
                /// Structured details, if sent.
                extras: ::std::option::Option<$crate::Value>,
            },
        }

        impl $name {
            /// The error code, as sent on the wire (for example `"TOO_SMALL"`).
            pub fn code(&self) -> &str {
                match self {
                    $( Self::$variant { .. } => $code, )*
                    Self::Unknown { code, .. } => code,
                }
            }

            /// The human-readable message.
            pub fn message(&self) -> &str {
                match self {
                    $( Self::$variant { message, .. } )|* | Self::Unknown { message, .. } => message,
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                use $crate::__private::serialize_service_error as ser;
                match self {
                    $(
                        Self::$variant { message, .. } => {
                            $(
                                if let Self::$variant { extras, .. } = self {
                                    let extras: &$ety = extras;
                                    return ser(serializer, $code, message, ::std::option::Option::Some(extras));
                                }
                            )?
                            $(
                                if let Self::$variant { extras, .. } = self {
                                    let extras: &::std::option::Option<$oty> = extras;
                                    return ser(serializer, $code, message, extras.as_ref());
                                }
                            )?
                            ser(serializer, $code, message, ::std::option::Option::None::<&()>)
                        }
                    )*
                    Self::Unknown { code, message, extras } => {
                        ser(serializer, code, message, extras.as_ref())
                    }
                }
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                #[allow(unused_imports)]
                use $crate::__private::{optional_extras, required_extras};
                let wire = <$crate::__private::ServiceErrorWire as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                match wire.code.as_str() {
                    $(
                        $code => ::std::result::Result::Ok(Self::$variant {
                            message: wire.message,
                            $( extras: required_extras::<$ety, D::Error>(&wire.extras)?, )?
                            $( extras: optional_extras::<$oty, D::Error>(&wire.extras)?, )?
                        }),
                    )*
                    _ => ::std::result::Result::Err($crate::__private::unknown_code::<D::Error>(&wire.code)),
                }
            }
        }

        impl $crate::ServiceError for $name {
            fn unknown(
                code: ::std::string::String,
                message: ::std::string::String,
                extras: ::std::option::Option<$crate::Value>,
            ) -> Self {
                Self::Unknown { code, message, extras }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::write!(f, "{}: {}", self.code(), self.message())
            }
        }

        impl ::std::error::Error for $name {}
    };
}

service_error! {
    /// The service-error type of every procedure whose schema declares no errors
    /// (TypeBox's `Type.Never()`): whatever code such a procedure sends is kept as
    /// [`UndeclaredError::Unknown`]. Generated code names it per procedure with a type
    /// alias (`pub type TestAddError = river_runtime::UndeclaredError;`).
    pub enum UndeclaredError {}
}

/// The helpers [`service_error!`](crate::service_error!) expands to. Not a public API.
pub(crate) mod support {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Serialize, Serializer};

    use crate::value::Value;

    /// A service error as it arrives: `{code, message, extras?}`.
    #[derive(Deserialize)]
    pub struct ServiceErrorWire {
        /// The error code.
        pub code: String,
        /// The message.
        pub message: String,
        /// The extras, undecoded.
        #[serde(default)]
        pub extras: Option<Value>,
    }

    /// Writes `{code, message, extras?}` (no `extras` key when `extras` is `None`).
    pub fn serialize_service_error<S: Serializer, X: Serialize + ?Sized>(
        serializer: S,
        code: &str,
        message: &str,
        extras: Option<&X>,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(if extras.is_some() { 3 } else { 2 }))?;
        map.serialize_entry("code", code)?;
        map.serialize_entry("message", message)?;
        if let Some(extras) = extras {
            map.serialize_entry("extras", extras)?;
        }
        map.end()
    }

    /// Decodes required `extras`; a missing one is a `missing_field` error.
    pub fn required_extras<T: serde::de::DeserializeOwned, E: serde::de::Error>(
        extras: &Option<Value>,
    ) -> Result<T, E> {
        match extras {
            Some(value) => value.deserialize_into::<T>().map_err(E::custom),
            None => Err(E::missing_field("extras")),
        }
    }

    /// Decodes optional `extras`.
    pub fn optional_extras<T: serde::de::DeserializeOwned, E: serde::de::Error>(
        extras: &Option<Value>,
    ) -> Result<Option<T>, E> {
        match extras {
            Some(value) => value.deserialize_into::<Option<T>>().map_err(E::custom),
            None => Ok(None),
        }
    }

    /// The error for a code the type does not declare.
    pub fn unknown_code<E: serde::de::Error>(code: &str) -> E {
        E::custom(format_args!("unknown error code `{code}`"))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::{ServiceError, UndeclaredError};
    use crate::value::Value;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Limits {
        pub bound: i64,
    }

    crate::service_error! {
        /// Test errors.
        pub enum RangeError {
            /// Required extras.
            TooSmall = "TOO_SMALL" { extras: Limits },
            /// Optional extras.
            TooBig = "TOO_BIG" { extras?: Limits },
            /// No extras.
            Empty = "EMPTY",
        }
    }

    fn json(e: &RangeError) -> String {
        serde_json::to_string(e).unwrap()
    }

    fn parse(s: &str) -> Result<RangeError, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn known_codes_round_trip_in_the_wire_shape() {
        let cases = [
            (
                RangeError::TooSmall {
                    message: "m".into(),
                    extras: Limits { bound: 0 },
                },
                r#"{"code":"TOO_SMALL","message":"m","extras":{"bound":0}}"#,
            ),
            (
                RangeError::TooBig {
                    message: "m".into(),
                    extras: None,
                },
                r#"{"code":"TOO_BIG","message":"m"}"#,
            ),
            (
                RangeError::TooBig {
                    message: "m".into(),
                    extras: Some(Limits { bound: 9 }),
                },
                r#"{"code":"TOO_BIG","message":"m","extras":{"bound":9}}"#,
            ),
            (
                RangeError::Empty {
                    message: "m".into(),
                },
                r#"{"code":"EMPTY","message":"m"}"#,
            ),
        ];
        for (value, wire) in cases {
            assert_eq!(json(&value), wire);
            assert_eq!(parse(wire).unwrap(), value);
            let packed = rmp_serde::to_vec_named(&value).unwrap();
            assert_eq!(rmp_serde::from_slice::<RangeError>(&packed).unwrap(), value);
        }
    }

    #[test]
    fn unknown_codes_and_bad_extras_do_not_decode() {
        let e = parse(r#"{"code":"NEW","message":"m"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown error code `NEW`"), "{e}");
        let e = parse(r#"{"code":"TOO_SMALL","message":"m"}"#).unwrap_err();
        assert!(e.to_string().contains("extras"), "{e}");
        assert!(parse(r#"{"code":"TOO_SMALL","message":"m","extras":{"bound":"x"}}"#).is_err());
        // Extras on a code that declares none are ignored.
        assert_eq!(
            parse(r#"{"code":"EMPTY","message":"m","extras":1}"#).unwrap(),
            RangeError::Empty {
                message: "m".into()
            }
        );
    }

    #[test]
    fn unknown_keeps_everything_and_serializes_back() {
        let extras = Some(Value::from_serialize(&Limits { bound: 3 }).unwrap());
        let e = RangeError::unknown("NEW".into(), "later".into(), extras);
        assert_eq!(e.code(), "NEW");
        assert_eq!(e.message(), "later");
        assert_eq!(e.to_string(), "NEW: later");
        assert_eq!(
            json(&e),
            r#"{"code":"NEW","message":"later","extras":{"bound":3}}"#
        );
        let u = UndeclaredError::unknown("X".into(), "y".into(), None);
        assert_eq!(u.code(), "X");
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"code":"X","message":"y"}"#
        );
        assert!(serde_json::from_str::<UndeclaredError>(r#"{"code":"X","message":"y"}"#).is_err());
    }
}
