//! API keys from the environment, and the header each provider wants them in
//! (its row's [`AuthScheme`]). Holders redact themselves in `Debug`, and
//! nothing here ever formats a key into a message.

use std::fmt;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use preflight::Provider;
use sha2::Sha256;

use crate::error::SubmitError;
use crate::provider::{key_hint, row, AuthScheme};

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// JWTs live 30 minutes; a new one is made when less than this is left.
const JWT_LIFETIME_S: u64 = 1800;
const JWT_RENEW_MARGIN_S: u64 = 300;

/// How requests to one provider are authorised.
pub enum Credentials {
    /// `Authorization: Bearer <key>`.
    Bearer(Secret),
    /// `Authorization: Key <key>` (fal).
    Key(Secret),
    /// `x-api-key: <key>` (PiAPI).
    XApiKey(Secret),
    /// Kling's legacy scheme: an HS256 JWT from an access key and a secret key,
    /// renewed before it expires.
    KlingJwt {
        access_key: Secret,
        secret_key: Secret,
        cached: Mutex<Option<(String, u64)>>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Credentials::Bearer(<redacted>)"),
            Credentials::Key(_) => f.write_str("Credentials::Key(<redacted>)"),
            Credentials::XApiKey(_) => f.write_str("Credentials::XApiKey(<redacted>)"),
            Credentials::KlingJwt { .. } => f.write_str("Credentials::KlingJwt(<redacted>)"),
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Credentials {
    /// Read the provider's key from the environment.
    pub fn from_env(provider: Provider) -> Result<Credentials, SubmitError> {
        Credentials::from_lookup(provider, env_nonempty)
    }

    /// As [`Credentials::from_env`], with a custom variable lookup (for tests).
    pub fn from_lookup(
        provider: Provider,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, SubmitError> {
        let row = row(provider);
        if let Some(key) = row.key_vars.iter().find_map(|v| get(v)) {
            let key = Secret(key);
            return Ok(match row.auth {
                AuthScheme::Bearer => Credentials::Bearer(key),
                AuthScheme::Key => Credentials::Key(key),
                AuthScheme::XApiKey => Credentials::XApiKey(key),
            });
        }
        if let Some((access, secret)) = row.jwt_vars {
            if let (Some(a), Some(s)) = (get(access), get(secret)) {
                return Ok(Credentials::KlingJwt {
                    access_key: Secret(a),
                    secret_key: Secret(s),
                    cached: Mutex::new(None),
                });
            }
        }
        Err(SubmitError::MissingKey {
            provider,
            hint: key_hint(provider),
        })
    }

    /// The header that carries the key: its name and value.
    pub(crate) fn header(&self) -> (&'static str, String) {
        match self {
            Credentials::Bearer(k) => ("Authorization", format!("Bearer {}", k.expose())),
            Credentials::Key(k) => ("Authorization", format!("Key {}", k.expose())),
            Credentials::XApiKey(k) => ("x-api-key", k.expose().to_string()),
            Credentials::KlingJwt {
                access_key,
                secret_key,
                cached,
            } => (
                "Authorization",
                format!("Bearer {}", fresh_jwt(access_key, secret_key, cached)),
            ),
        }
    }
}

/// The cached JWT, or a new one when less than the margin is left.
fn fresh_jwt(
    access_key: &Secret,
    secret_key: &Secret,
    cached: &Mutex<Option<(String, u64)>>,
) -> String {
    let now = now_s();
    let mut guard = match cached.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((token, exp)) = guard.as_ref() {
        if *exp > now + JWT_RENEW_MARGIN_S {
            return token.clone();
        }
    }
    let token = kling_jwt(access_key.expose(), secret_key.expose(), now);
    *guard = Some((token.clone(), now + JWT_LIFETIME_S));
    token
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// HS256 JWT: header `{"alg":"HS256","typ":"JWT"}`, claims `iss`, `exp` = now + 1800,
/// `nbf` = now − 5, as Kling's legacy authentication describes.
pub fn kling_jwt(access_key: &str, secret_key: &str, now: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": access_key,
        "exp": now + JWT_LIFETIME_S,
        "nbf": now.saturating_sub(5),
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return signing_input,
    };
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let c = Credentials::Bearer(Secret::new("sk-very-secret"));
        assert!(!format!("{c:?}").contains("very-secret"));
        let s = Secret::new("sk-very-secret");
        assert!(!format!("{s:?}").contains("very-secret"));
    }

    #[test]
    fn jwt_has_documented_shape_and_valid_signature() {
        let t = kling_jwt("ak", "sk", 1_000_000);
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
        assert_eq!(header, br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "ak");
        assert_eq!(claims["exp"], 1_001_800);
        assert_eq!(claims["nbf"], 999_995);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"sk").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .unwrap();
    }

    #[test]
    fn jwt_is_reused_then_renewed() {
        let c = Credentials::KlingJwt {
            access_key: Secret::new("ak"),
            secret_key: Secret::new("sk"),
            cached: Mutex::new(None),
        };
        let a = c.header().1;
        assert_eq!(a, c.header().1, "a fresh token is reused");
        if let Credentials::KlingJwt { cached, .. } = &c {
            // Pretend the cached token expires in a minute.
            let mut g = cached.lock().unwrap();
            let (t, _) = g.clone().unwrap();
            *g = Some((t, now_s() + 60));
        }
        let b = c.header().1;
        if let Credentials::KlingJwt { cached, .. } = &c {
            let exp = cached.lock().unwrap().as_ref().unwrap().1;
            assert!(exp >= now_s() + JWT_LIFETIME_S - 2, "renewed before expiry");
        }
        assert!(b.starts_with("Bearer "));
    }

    #[test]
    fn keys_come_from_the_right_variables() {
        let env = |k: &str| (k == "NOVITA_API_KEY").then(|| "n".to_string());
        assert!(Credentials::from_lookup(Provider::Novita, env).is_ok());
        let err = Credentials::from_lookup(Provider::Aihubmax, env).unwrap_err();
        assert!(err.to_string().contains("AIHUBMAX_API_KEY"));
        let env = |k: &str| (k == "KLING_ACCESS_KEY").then(|| "a".to_string());
        assert!(Credentials::from_lookup(Provider::Kling, env).is_err());
        let env = |k: &str| {
            matches!(k, "FAL_KEY" | "PIAPI_API_KEY" | "REPLICATE_API_TOKEN")
                .then(|| "k1".to_string())
        };
        let header = |p| Credentials::from_lookup(p, env).unwrap().header();
        assert_eq!(
            header(Provider::Fal),
            ("Authorization", "Key k1".to_string())
        );
        assert_eq!(header(Provider::Piapi), ("x-api-key", "k1".to_string()));
        assert_eq!(
            header(Provider::Replicate),
            ("Authorization", "Bearer k1".to_string())
        );
        let err = Credentials::from_lookup(Provider::Kie, env).unwrap_err();
        assert!(err.to_string().contains("KIE_API_KEY"));
    }
}
