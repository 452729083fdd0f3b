//! The table's schema: created as Terraform creates it (for tests and local runs).

use super::{GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI_ACTIVITY, GSI_LAST_SEEN, PK, SK, TTL_ATTRIBUTE};
use crate::aws::errors::port_error;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use domain::ports::PortError;

/// Creates the table as Terraform does: on-demand billing, `PK`/`SK`, the
/// indexes [`GSI_LAST_SEEN`] and [`GSI_ACTIVITY`], and TTL on
/// [`TTL_ATTRIBUTE`]. Waits until the table and its indexes are active. A
/// table that already exists is an error.
pub async fn create_table(client: &Client, table: &str) -> Result<(), PortError> {
    let what = format!("dynamodb: creating table {table}");
    send_create_table(client, table, &what).await?;
    // TTL can only be set on an active table.
    wait_until_active(client, table, &what).await?;
    enable_ttl(client, table, &what).await
}

/// A key of a table or index; `what` names the operation in errors.
fn key(name: &str, key_type: KeyType, what: &str) -> Result<KeySchemaElement, PortError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| PortError::Permanent(format!("{what}: {e}")))
}

/// A string attribute of a key.
fn attribute(name: &str, what: &str) -> Result<AttributeDefinition, PortError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| PortError::Permanent(format!("{what}: {e}")))
}

/// CreateTable of an on-demand table keyed by string `PK` and `SK`, with no
/// index (the notify function's deliveries table); for tests, Terraform
/// creates it on AWS.
pub(crate) async fn create_pk_sk_table(client: &Client, table: &str) -> Result<(), PortError> {
    let what = format!("dynamodb: creating table {table}");
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash, &what)?)
        .key_schema(key(SK, KeyType::Range, &what)?)
        .attribute_definitions(attribute(PK, &what)?)
        .attribute_definitions(attribute(SK, &what)?)
        .send()
        .await
        .map_err(|e| port_error(&what, e))?;
    Ok(())
}

/// CreateTable with the keys, attributes and indexes of the module docs.
async fn send_create_table(client: &Client, table: &str, what: &str) -> Result<(), PortError> {
    let build = |e: aws_smithy_types::error::operation::BuildError| {
        PortError::Permanent(format!("{what}: {e}"))
    };
    let index = |name: &str, pk: &str, sk: &str, projection: Projection| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash, what)?)
            .key_schema(key(sk, KeyType::Range, what)?)
            .projection(projection)
            .build()
            .map_err(build)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash, what)?)
        .key_schema(key(SK, KeyType::Range, what)?)
        .set_attribute_definitions(Some(
            [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK]
                .into_iter()
                .map(|name| attribute(name, what))
                .collect::<Result<Vec<_>, _>>()?,
        ))
        .global_secondary_indexes(index(
            GSI_LAST_SEEN,
            GSI1PK,
            GSI1SK,
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )?)
        .global_secondary_indexes(index(
            GSI_ACTIVITY,
            GSI2PK,
            GSI2SK,
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes("count")
                .build(),
        )?)
        .send()
        .await
        .map_err(|e| port_error(what, e))?;
    Ok(())
}

/// Polls DescribeTable until the table and its indexes are active (at most 5 minutes).
async fn wait_until_active(client: &Client, table: &str, what: &str) -> Result<(), PortError> {
    let mut waited = std::time::Duration::ZERO;
    let step = std::time::Duration::from_millis(500);
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| port_error(what, e))?;
        let active = out.table().is_some_and(|t| {
            t.table_status() == Some(&TableStatus::Active)
                && t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active))
        });
        if active {
            break;
        }
        if waited >= std::time::Duration::from_secs(300) {
            return Err(PortError::Transient(format!(
                "{what}: not active after {waited:?}"
            )));
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    Ok(())
}

/// TTL on [`TTL_ATTRIBUTE`]: DynamoDB deletes expired items on its own.
async fn enable_ttl(client: &Client, table: &str, what: &str) -> Result<(), PortError> {
    let build = |e: aws_smithy_types::error::operation::BuildError| {
        PortError::Permanent(format!("{what}: {e}"))
    };
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build)?,
        )
        .send()
        .await
        .map_err(|e| port_error(&format!("dynamodb: enabling TTL on {table}"), e))?;
    Ok(())
}
