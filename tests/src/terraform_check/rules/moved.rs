//! Rule `moved`: in every `moved` block, `to` is declared (a resource of the
//! module, a module call, or a resource of a called module of the tree:
//! `module.M[KEY].TYPE.NAME`), and `from`, unless it is the same resource
//! with another index, is no longer declared (Terraform refuses to move an
//! object that still exists in the configuration).

use crate::terraform_check::model::*;
use crate::terraform_check::refs::called_module;
use crate::terraform_check::Violation;
use hcl::expr::{Expression, TraversalOperator};
use std::collections::BTreeMap;

/// The names of an address, indexes left out
/// (`module.f["a"].aws_sqs_queue.dlq` -> module, f, aws_sqs_queue, dlq).
pub fn address_path(e: &Expression) -> Option<Vec<String>> {
    match e {
        Expression::Variable(v) => Some(vec![v.to_string()]),
        Expression::Traversal(t) => {
            let mut path = address_path(&t.expr)?;
            for op in &t.operators {
                match op {
                    TraversalOperator::GetAttr(a) => path.push(a.to_string()),
                    TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => {}
                    _ => return None,
                }
            }
            Some(path)
        }
        _ => None,
    }
}

/// Whether `path` names something declared in `m` (or in a called module).
fn declared(m: &Module, modules: &BTreeMap<String, Module>, path: &[String]) -> Result<(), String> {
    match path {
        [module, name, rest @ ..] if module == "module" => {
            let call = m
                .calls
                .get(name)
                .ok_or(format!("module.{name}: no such module call"))?;
            if rest.is_empty() {
                return Ok(());
            }
            let Some(called) = called_module(m, call, modules) else {
                return Ok(()); // not in the tree: cannot tell
            };
            declared(called, modules, rest).map_err(|e| format!("in {}: {e}", called.dir))
        }
        [data, t, n] if data == "data" => match m.data.contains_key(&(t.clone(), n.clone())) {
            true => Ok(()),
            false => Err(format!("data.{t}.{n}: no such data source")),
        },
        [t, n] => match m.resources.contains_key(&(t.clone(), n.clone())) {
            true => Ok(()),
            false => Err(format!("{t}.{n}: no such resource")),
        },
        other => Err(format!("{}: not a resource address", other.join("."))),
    }
}

pub fn check_moved(m: &Module, modules: &BTreeMap<String, Module>, out: &mut Vec<Violation>) {
    for item in m
        .others
        .iter()
        .filter(|i| i.block.identifier.as_str() == "moved")
    {
        let body = &item.block.body;
        let from = attr(body, "from");
        let to = attr(body, "to");
        let address = format!("moved {}", from.map(text).unwrap_or_default());
        let mut report = |message: String| {
            out.push(Violation {
                rule: "moved",
                file: item.file.clone(),
                address: address.clone(),
                message,
            })
        };
        let (Some(from), Some(to)) = (from.and_then(address_path), to.and_then(address_path))
        else {
            report("needs `from` and `to` addresses".into());
            continue;
        };
        if let Err(e) = declared(m, modules, &to) {
            report(format!("to: {e}"));
        }
        if from != to && declared(m, modules, &from).is_ok() {
            report(format!(
                "from: {} is still declared (Terraform refuses to move it)",
                from.join(".")
            ));
        }
    }
}
