//! Support code for the end-to-end tests.

pub mod proxy;
