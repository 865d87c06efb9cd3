//! The examples of psg-emulator's README, compiled and run by `cargo test`
//! as doc tests from a crate outside the emulator, the way a user's crate
//! uses it: with psg-ext beside it.
#![doc = include_str!("../../../crates/psg-emulator/README.md")]
