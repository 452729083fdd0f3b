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
