//! What every HTTP conversation shares: timeouts, the agent, and transport
//! errors told without their URL (which may carry a signature).

use std::time::Duration;

/// Network timeouts.
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Longest wait for any read or write on the socket.
    pub io_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(15),
            io_timeout: Duration::from_secs(60),
        }
    }
}

/// A blocking agent with these timeouts and our user agent.
pub fn agent(http: HttpConfig) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(http.connect_timeout)
        .timeout_read(http.io_timeout)
        .timeout_write(http.io_timeout)
        .user_agent(concat!("preflight/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A transport error without its URL.
pub fn transport_message(t: &ureq::Transport) -> String {
    match t.message() {
        Some(m) => format!("{}: {m}", t.kind()),
        None => t.kind().to_string(),
    }
}

/// Whether a transport error may have let the request (partly) through: a
/// read timeout or a reset, not a failed connect.
pub fn maybe_sent(t: &ureq::Transport) -> bool {
    !matches!(
        t.kind(),
        ureq::ErrorKind::Dns
            | ureq::ErrorKind::ConnectionFailed
            | ureq::ErrorKind::InvalidUrl
            | ureq::ErrorKind::UnknownScheme
    )
}

/// `Retry-After` in seconds, when the answer has one.
pub fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    resp.header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
