//! What the six Lambda binaries share, by concern: configuration from the
//! environment ([`config`]), start-up and its failures ([`startup`]), the
//! SDK's TLS trust ([`tls`]), the adapters of each binary ([`wiring`]), and
//! the handler functions themselves ([`handlers`]). The binaries in
//! `src/bin` are a few lines of wiring over these.

pub mod config;
pub mod handlers;
pub mod notify;
pub mod startup;
pub mod stream;
pub mod tls;
pub mod wiring;

pub use config::*;
pub use handlers::*;
pub use notify::*;
pub use startup::*;
pub use stream::*;
pub use tls::*;
pub use wiring::*;

pub use lambda_http::lambda_runtime::Error;
