//! Translates SDK errors at the boundary: what a retry can fix is transient.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use domain::ports::PortError;

/// Error codes that mean "slow down and try again".
const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottledException",
    "LimitExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// The cause of an SDK error in one short line: the service's error code and
/// message when the service answered (`ParameterNotFound: ...`), else the
/// chain of error messages (`dispatch failure: io error: ... Connection
/// refused`), without the Debug dump `DisplayErrorContext` ends with.
pub fn cause<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(se) = e {
        let err = se.err();
        if let Some(code) = err.code() {
            return match err.message() {
                Some(message) => format!("{code}: {message}"),
                None => code.to_owned(),
            };
        }
    }
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Maps any SDK error to a port error, naming the operation.
pub fn port_error<E>(what: &str, e: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // One line: the Debug dump of `DisplayErrorContext` floods the logs.
    let message = format!("{what}: {}", cause(&e));
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PortError::Transient(message)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            if THROTTLING.contains(&code) || se.raw().status().is_server_error() {
                PortError::Transient(message)
            } else {
                PortError::Permanent(message)
            }
        }
        _ => PortError::Permanent(message),
    }
}
