//! `AgentStore` on the table: one partition `AGENTS`, sorted by id.

use super::codec::{clamp_limit, n, parse_body, s, to_json};
use super::{DynamoStore, Item, AGENTS_PK, PK, SK};
use crate::aws::errors::port_error;
use async_trait::async_trait;
use domain::model::{Agent, AgentId, Page};
use domain::ports::{AgentStore, PortError};
use std::collections::HashMap;

#[async_trait]
impl AgentStore for DynamoStore {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError> {
        let what = format!("dynamodb: reading agent {id}");
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key(PK, s(AGENTS_PK))
            .key(SK, s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        out.item().map(|item| parse_body(item, &what)).transpose()
    }

    /// Ordered by the id's text; a `limit` of 0 is treated as 1.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError> {
        let what = "dynamodb: listing agents";
        let want = Page::<Agent, AgentId>::fetch_size(limit);
        let mut condition = String::from("#pk = :pk");
        let mut values = HashMap::from([(":pk".to_string(), s(AGENTS_PK))]);
        let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
        if let Some(after) = &after {
            condition.push_str(" AND #sk > :after");
            values.insert(":after".into(), s(after.to_string()));
            names.insert("#sk".into(), SK.into());
        }
        let mut items: Vec<Agent> = Vec::new();
        let mut start: Option<Item> = None;
        while items.len() < want {
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .limit(clamp_limit(want - items.len()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(what, e))?;
            for item in resp.items() {
                items.push(parse_body(item, what)?);
            }
            match resp.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(Page::from_overfetch(items, limit, |a| a.id.clone()))
    }

    async fn put(&self, agent: &Agent) -> Result<(), PortError> {
        let id = agent.id.to_string();
        let what = format!("dynamodb: writing agent {id}");
        let stored = Agent {
            revision: agent.revision + 1,
            ..agent.clone()
        };
        let request = self
            .client
            .put_item()
            .table_name(&*self.table)
            .item(PK, s(AGENTS_PK))
            .item(SK, s(id.as_str()))
            .item("body", s(to_json(&stored, &format!("agent {id}"))?))
            .item("rev", n(stored.revision));
        let request = if agent.revision == 0 {
            request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
        } else {
            request
                .condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", n(agent.revision))
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(PortError::Conflict(format!(
                    "agent {id} changed since revision {}",
                    agent.revision
                )))
            }
            Err(e) => Err(port_error(&what, e)),
        }
    }
}
