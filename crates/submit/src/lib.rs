//! Send compliant inputs to Kling Motion Control providers (kling, powertokens,
//! novita, highway, aihubmax, and the marketplaces fal, replicate, kie, piapi,
//! wavespeed), follow the task, and bring the result home.
//!
//! Synchronous and thin. Dependencies run one way (checked by the workspace's
//! layering test), from the bottom:
//!
//! - [`error`], [`link`] (hashes, links without secrets), [`http`];
//! - [`task`]: the shared words (inputs, status, results);
//! - [`dialect`]: each API's words, one module per request dialect (pure);
//! - [`provider`]: the table of providers, naming their dialects (pure);
//! - [`auth`] (keys), [`client`] (HTTP), [`upload`] (S3, upload commands),
//!   [`hosted`] (the providers' own file hosting);
//! - [`journal`] records every submission in SQLite before it is sent,
//!   [`prepare`] repairs inputs, [`flow`] creates once, waits and downloads,
//!   [`pipeline`] runs it all for one pair, [`batch`] reads batch files.
//!
//! A crash, a retry or a timeout never creates a second paid task.

pub mod auth;
pub mod batch;
pub mod client;
pub mod dialect;
pub mod error;
pub mod flow;
pub mod hosted;
pub mod http;
pub mod journal;
pub mod link;
pub mod pipeline;
pub mod prepare;
pub mod provider;
pub mod task;
pub mod upload;

pub use auth::{Credentials, Secret};
pub use client::Client;
pub use error::SubmitError;
pub use flow::{download, refresh, submit, wait, Submitted, Timing};
pub use http::HttpConfig;
pub use journal::{Journal, TaskRecord};
pub use pipeline::{Pair, Sent, Settings, Source, Store};
pub use prepare::{Policy, Prepared};
pub use task::{ImageInput, Inputs, Mode, Status, TaskHandle, TaskState};
