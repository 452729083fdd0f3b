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
/// error chain (a timeout, a connection refused).
pub fn cause<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => format!(
                    "{}",
                    aws_smithy_types::error::display::DisplayErrorContext(e)
                ),
            }
        }
        _ => format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(e)
        ),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Maps any SDK error to a port error, naming the operation.
pub fn port_error<E>(what: &str, e: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!(
        "{what}: {}",
        aws_smithy_types::error::display::DisplayErrorContext(&e)
    );
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
