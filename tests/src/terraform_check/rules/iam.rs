//! Rule `iam`.

use crate::terraform_check::model::*;
use crate::terraform_check::policy::*;
use crate::terraform_check::{Config, Violation};
use hcl::Body;
use std::collections::BTreeSet;

/// Every policy statement of the module, by where it is:
/// (file, address, statements).
fn statement_sources(m: &Module) -> Vec<(String, String, Vec<Statement>)> {
    let mut sources: Vec<(String, String, Vec<Statement>)> = Vec::new();
    for ((t, n), item) in &m.data {
        if t == "aws_iam_policy_document" {
            sources.push((
                item.file.clone(),
                format!("data.{t}.{n}"),
                document_statements(&item.block.body),
            ));
        }
    }
    let mut with_json: Vec<(String, String, &Body)> = Vec::new();
    for ((t, n), item) in &m.resources {
        with_json.push((item.file.clone(), resource_address(t, n), &item.block.body));
    }
    for ((t, n), item) in &m.data {
        with_json.push((item.file.clone(), format!("data.{t}.{n}"), &item.block.body));
    }
    for (n, item) in &m.outputs {
        with_json.push((item.file.clone(), format!("output.{n}"), &item.block.body));
    }
    for (file, address, body) in with_json {
        let mut docs = Vec::new();
        jsonencode_in_body(body, &mut docs);
        let statements: Vec<Statement> = docs.into_iter().flat_map(json_statements).collect();
        if !statements.is_empty() {
            sources.push((file, address, statements));
        }
    }
    for (n, (file, e)) in &m.locals {
        let mut docs = Vec::new();
        jsonencode_args(e, &mut docs);
        let statements: Vec<Statement> = docs.into_iter().flat_map(json_statements).collect();
        if !statements.is_empty() {
            sources.push((file.clone(), format!("local.{n}"), statements));
        }
    }
    sources
}

pub fn check_iam(
    m: &Module,
    config: &Config,
    used: &mut BTreeSet<(usize, String)>,
    out: &mut Vec<Violation>,
) {
    let sources = statement_sources(m);

    for (file, address, statements) in sources {
        for (i, s) in statements.iter().enumerate() {
            if !s.allow {
                continue;
            }
            let star = s.resources.iter().any(|r| r == "*");
            for action in &s.actions {
                let problem = if is_wildcard(action) {
                    Some(format!(
                        "{} allows the wildcard action {action}",
                        s.label(i)
                    ))
                } else if star && is_write(action) {
                    Some(format!(
                        "{} allows the write action {action} on resource \"*\"",
                        s.label(i)
                    ))
                } else {
                    None
                };
                let Some(message) = problem else { continue };
                let exception = config.allowed.iter().position(|a| {
                    a.module == m.dir
                        && a.address == address
                        && s.sid.as_deref() == Some(a.sid)
                        && a.actions.contains(&action.as_str())
                });
                match exception {
                    Some(idx) => {
                        used.insert((idx, action.clone()));
                    }
                    None => out.push(Violation {
                        rule: "iam",
                        file: file.clone(),
                        address: address.clone(),
                        message,
                    }),
                }
            }
        }
    }
}
