//! Send compliant inputs to Kling Motion Control providers (kling, powertokens,
//! novita, highway, aihubmax), follow the task, and bring the result home.
//!
//! Synchronous and thin: [`provider`] knows each API's words (pure), [`client`]
//! speaks HTTP, [`journal`] records every submission in SQLite before it is
//! sent, and [`flow`] puts them together so that a crash, a retry or a timeout
//! never creates a second paid task.

pub mod auth;
pub mod batch;
pub mod client;
pub mod dialect;
pub mod error;
pub mod flow;
pub mod journal;
pub mod pipeline;
pub mod prepare;
pub mod provider;
pub mod upload;

pub use auth::{Credentials, Secret};
pub use client::{Client, HttpConfig};
pub use error::SubmitError;
pub use flow::{download, refresh, submit, wait, Submitted, Timing};
pub use journal::{Journal, TaskRecord};
pub use pipeline::{Pair, Sent, Settings, Source, Store};
pub use prepare::{Policy, Prepared};
pub use provider::{ImageInput, Inputs, Mode, Status, TaskState};
