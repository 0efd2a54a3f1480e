//! Exit statuses scripts can rely on.

/// Every file is compliant (or was made compliant).
pub const OK: i32 = 0;
/// Some file is not compliant (check) or could not be repaired (fix).
pub const NOT_COMPLIANT: i32 = 1;
/// Some file could not be read, or the command line was wrong.
pub const USAGE: i32 = 2;
pub const UNREADABLE: i32 = 2;
