//! Access beyond loopback: `monitoring local` on a non-loopback address
//! requires a token (from `--token-file` or `MONITORING_TOKEN`, else
//! generated here and printed once); on loopback the API and console stay open.

use super::BoxError;
use std::io::Read;
use std::net::SocketAddr;

/// The token the listen address requires, if any.
pub fn listen_token(listen: SocketAddr, given: Option<&str>) -> Result<Option<String>, BoxError> {
    if listen.ip().is_loopback() {
        return Ok(None);
    }
    if let Some(t) = given {
        if t.len() < 16 {
            return Err("the token must be at least 16 characters".into());
        }
        return Ok(Some(t.to_owned()));
    }
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(Some(bytes.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Prints, once, where the console is and how to call the API with the token.
pub fn print_console_link(addr: SocketAddr, token: &str) {
    let host = if addr.ip().is_unspecified() {
        "<this-host>".to_owned()
    } else {
        addr.ip().to_string()
    };
    eprintln!(
        "monitoring local listens on {addr}, beyond loopback: every request needs the token.\n  \
         console: http://{host}:{}/console/?token={token}\n  \
         API:     curl -H 'Authorization: Bearer {token}' http://{host}:{}/events",
        addr.port(),
        addr.port()
    );
}
