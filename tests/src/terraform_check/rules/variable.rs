//! Rule `variable`: a type, a description and a use.

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;
use std::collections::BTreeSet;

pub fn check_variables(m: &Module, used: &BTreeSet<String>, out: &mut Vec<Violation>) {
    for (name, item) in &m.variables {
        let mut report = |message: &str| {
            out.push(Violation {
                rule: "variable",
                file: item.file.clone(),
                address: format!("var.{name}"),
                message: message.to_owned(),
            })
        };
        let body = &item.block.body;
        if attr(body, "type").is_none() {
            report("has no type");
        }
        match attr(body, "description").and_then(literal) {
            Some(d) if !d.trim().is_empty() => {}
            _ => report("has no description (a non-empty string literal)"),
        }
        if !used.contains(name) {
            report("is never used in its module");
        }
    }
}
