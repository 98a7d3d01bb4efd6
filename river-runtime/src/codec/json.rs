//! The JSON codec (`NaiveJsonCodec`). Owned by the codec work; stubs for now.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::PayloadMismatch;
use crate::error::Error;
use crate::message::{Payload, TransportMessage};

pub(super) fn encode_message(_msg: &TransportMessage) -> Result<Vec<u8>, Error> {
    Err(Error::encode("json codec not implemented yet"))
}
pub(super) fn decode_message(_frame: bytes::Bytes) -> Result<TransportMessage, Error> {
    Err(Error::decode("json codec not implemented yet"))
}
pub(super) fn encode_value<T: Serialize + ?Sized>(_value: &T) -> Result<Payload, Error> {
    Err(Error::encode("json codec not implemented yet"))
}
pub(super) fn decode_value<T: DeserializeOwned>(_payload: &Payload) -> Result<T, PayloadMismatch> {
    Err(PayloadMismatch { path: String::new(), message: "json codec not implemented yet".into() })
}
pub(super) fn encode_result(_ok: bool, inner: &Payload) -> Payload {
    inner.clone()
}
pub(super) fn decode_result(_payload: &Payload) -> Result<(bool, Payload), Error> {
    Err(Error::decode("json codec not implemented yet"))
}
