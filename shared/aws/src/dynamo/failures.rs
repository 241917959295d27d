//! How DynamoDB's errors read: throttling, a refused condition, a cancelled transaction, and
//! the store error that names the operation that failed.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use sei_jira_core::store::StoreError;

/// Why DynamoDB cancelled a transaction: a condition refused it, or it met other writes or
/// throttling and may be resubmitted.
pub(super) enum Cancelled {
    ByCondition,
    ByContention,
}

pub(super) fn cancellation<R>(err: &SdkError<TransactWriteItemsError, R>) -> Option<Cancelled> {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) =
        err.as_service_error()?
    else {
        return None;
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .collect();
    Some(match codes.contains(&"ConditionalCheckFailed") {
        true => Cancelled::ByCondition,
        false => Cancelled::ByContention,
    })
}

pub(super) fn is_throttling<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err.code(),
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
        )
    )
}

pub(super) fn is_conditional_check_failure<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// Maps an SDK error to a store error naming the operation, with the SDK's full context.
pub(super) fn backend<E: std::error::Error>(operation: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Backend(format!("DynamoDB {operation}: {}", DisplayErrorContext(&e)))
}
