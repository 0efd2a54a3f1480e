//! The library's integration tests, compiled into one binary (FFmpeg and
//! libheif are linked once). Each module is one area; `util` holds the
//! helpers they share.

mod util;

// Property tests of the rule engine at every limit of every spec.
mod check_limits;
// The pose models on real photographs and cases derived from them.
mod content;
// Decode limits on real fixtures end with a clear error or a partial result.
mod decode_limits;
// `execute` and `repair` guards: a changed input, a byte-for-byte copy.
mod execute;
// Modules depend on each other one way only.
mod layering;
