//! Connections: the TLS connector, the pool's error reporting, and what a failed
//! attempt means (retry or give up).

use std::sync::Arc;
use std::time::Duration;

use r2d2_postgres::postgres::{self, Client, error::SqlState};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// Why an attempt failed, and whether another may succeed.
pub(super) enum Failure {
    Pool(r2d2::Error),
    Pg(postgres::Error),
    Corrupt(&'static str),
}

impl Failure {
    pub(super) fn transient(&self) -> bool {
        match self {
            Failure::Pool(_) => true,
            Failure::Pg(e) => match e.code() {
                None => true,
                Some(code) => {
                    code.code().starts_with("08")
                        || [
                            &SqlState::ADMIN_SHUTDOWN,
                            &SqlState::CRASH_SHUTDOWN,
                            &SqlState::CANNOT_CONNECT_NOW,
                            &SqlState::T_R_SERIALIZATION_FAILURE,
                            &SqlState::T_R_DEADLOCK_DETECTED,
                            &SqlState::TOO_MANY_CONNECTIONS,
                        ]
                        .contains(&code)
                }
            },
            Failure::Corrupt(_) => false,
        }
    }

    pub(super) fn into_error(self) -> Error {
        match self {
            // Messages of the driver name the server, never the password.
            Failure::Pool(e) => Error::Store(format!("no database connection: {e}")),
            Failure::Pg(e) => Error::Store(format!("database: {e}")),
            Failure::Corrupt(what) => Error::Store(format!("corrupt {what} record")),
        }
    }
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Pg(e)
    }
}

pub(super) type Attempt<T> = std::result::Result<T, Failure>;

/// The pool's last connection error with its causes: r2d2's own error keeps only the
/// top message ("error performing TLS handshake"), not why (the certificate's issuer
/// is unknown). The driver's messages name the server, never the password.
#[derive(Debug, Clone, Default)]
pub(super) struct LastConnectError(Arc<std::sync::Mutex<Option<String>>>);

impl LastConnectError {
    pub(super) fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl r2d2::HandleError<postgres::Error> for LastConnectError {
    fn handle_error(&self, error: postgres::Error) {
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(text);
    }
}

/// The TLS connector: rustls, verifying against `ca_pem` or else the public roots.
pub(super) fn tls(ca_pem: Option<&str>) -> Result<MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(pem) => {
            let bad = |why: String| Error::malformed("database CA certificate", why);
            let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("not PEM: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad("no usable certificate in the PEM text".into()));
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Store(format!("TLS set-up: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// What a store shares between its handles and its click writer: the connection pool
/// and the click buffer.
pub(super) struct Inner {
    pub(super) pool: OffRuntimeDrop<Pool>,
    pub(super) buffer: crate::store::batch::ClickBuffer,
}

pub(super) type Pool =
    r2d2::Pool<r2d2_postgres::PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>>;

impl Inner {
    /// Runs `f` on a pooled connection, retrying transient failures with backoff.
    pub(super) fn attempt<T: Send>(
        &self,
        mut f: impl FnMut(&mut Client) -> Attempt<T> + Send,
    ) -> Result<T> {
        self.attempt_again(|c, _| f(c))
    }

    /// Like [`Inner::attempt`]; `f` is told whether an earlier attempt failed after
    /// reaching the database (its write may have committed). Safe on any thread: inside
    /// a Tokio runtime the work moves to a thread of its own (the synchronous client
    /// runs a runtime of its own, which cannot start inside another).
    pub(super) fn attempt_again<T: Send>(
        &self,
        f: impl FnMut(&mut Client, bool) -> Attempt<T> + Send,
    ) -> Result<T> {
        off_runtime(|| self.attempt_here(f))
    }

    fn attempt_here<T>(&self, mut f: impl FnMut(&mut Client, bool) -> Attempt<T>) -> Result<T> {
        let deadline = std::time::Instant::now() + RETRY_BUDGET;
        let mut delays = RETRY_DELAYS_MS.iter().chain(std::iter::repeat(&400));
        let mut reached = false;
        loop {
            let outcome = match self.pool.get() {
                Ok(mut conn) => {
                    let r = f(&mut conn, reached);
                    reached = reached || r.is_err();
                    r
                }
                Err(e) => Err(Failure::Pool(e)),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) if e.transient() => {
                    let pause = Duration::from_millis(*delays.next().unwrap_or(&400));
                    if std::time::Instant::now() + pause > deadline {
                        return Err(e.into_error());
                    }
                    std::thread::sleep(pause);
                }
                Err(e) => return Err(e.into_error()),
            }
        }
    }
}

/// Backoff between attempts: 50, 100, 200, 400 ms, then 400 ms …
const RETRY_DELAYS_MS: [u64; 4] = [50, 100, 200, 400];

/// No attempt starts later than this after the first: a call fails within about
/// `RETRY_BUDGET` + the 0.5 s connection timeout when the database is gone.
pub const RETRY_BUDGET: Duration = Duration::from_secs(2);

/// A value whose drop runs off any Tokio runtime: the pool's connections close by
/// blocking on the driver's own runtime.
pub(super) struct OffRuntimeDrop<T: Send>(pub(super) Option<T>);

impl<T: Send> std::ops::Deref for OffRuntimeDrop<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // Present until dropped.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<T: Send> Drop for OffRuntimeDrop<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            off_runtime(move || drop(v));
        }
    }
}

/// Runs `f` here, or on a scoped thread of its own when this thread is inside a Tokio
/// runtime (the synchronous PostgreSQL client blocks on a runtime of its own, which
/// Tokio refuses to start inside another).
pub(super) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
