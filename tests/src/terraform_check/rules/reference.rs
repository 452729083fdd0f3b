//! Rule `reference`: every reference resolves; module calls match the called
//! module's variables and outputs.

use crate::terraform_check::model::*;
use crate::terraform_check::refs::*;
use crate::terraform_check::tree::join_source;
use crate::terraform_check::Violation;
use std::collections::{BTreeMap, BTreeSet};

pub fn check_references(
    m: &Module,
    modules: &BTreeMap<String, Module>,
    out: &mut Vec<Violation>,
) -> BTreeSet<String> {
    let mut used_vars = BTreeSet::new();
    for (file, address, found, counts_as_use) in expression_sites(m) {
        let mut report_as = |rule: &'static str, message: String| {
            out.push(Violation {
                rule,
                file: file.clone(),
                address: address.clone(),
                message,
            })
        };
        for f in found {
            let mut report = |message: String| report_as("reference", message);
            let (root, ops) = match f {
                Found::BadTemplate(msg) => {
                    report_as("parse", msg);
                    continue;
                }
                Found::Ref { root, ops } => (root, ops),
            };
            match resolve(m, modules, &root, &ops) {
                Ok(Some(v)) if counts_as_use => {
                    used_vars.insert(v);
                }
                Ok(_) => {}
                Err(message) => report(message),
            }
        }
    }
    check_module_calls(m, modules, out);
    used_vars
}

/// Resolves one reference in `m`: `Ok(Some(v))` for `var.v`, `Err` with the
/// message when it does not resolve.
fn resolve(
    m: &Module,
    modules: &BTreeMap<String, Module>,
    root: &str,
    ops: &[Op],
) -> Result<Option<String>, String> {
    let attr_at = |i: usize| match ops.get(i) {
        Some(Op::Attr(a)) => Some(a.as_str()),
        _ => None,
    };
    match root {
        r if IGNORED_ROOTS.contains(&r) => Ok(None),
        "var" => match attr_at(0) {
            Some(v) if m.variables.contains_key(v) => Ok(Some(v.to_owned())),
            Some(v) => Err(format!("var.{v}: no such variable in the module")),
            None => Err("bare `var`".into()),
        },
        "local" => match attr_at(0) {
            Some(l) if m.locals.contains_key(l) => Ok(None),
            Some(l) => Err(format!("local.{l}: no such local")),
            None => Err("bare `local`".into()),
        },
        "data" => match (attr_at(0), attr_at(1)) {
            (Some(t), Some(n)) if m.data.contains_key(&(t.into(), n.into())) => Ok(None),
            (Some(t), Some(n)) => Err(format!("data.{t}.{n}: no such data source")),
            _ => Err("incomplete data source reference".into()),
        },
        "module" => resolve_module_output(m, modules, ops).map(|()| None),
        resource_type => match attr_at(0) {
            Some(n) if m.resources.contains_key(&(resource_type.into(), n.into())) => Ok(None),
            Some(n) => Err(format!("{resource_type}.{n}: no such resource")),
            None => Err(format!("{resource_type}: unknown symbol")),
        },
    }
}

/// `module.M[.OUT]`: the call exists and, when it calls a module of the
/// tree, declares the output.
fn resolve_module_output(
    m: &Module,
    modules: &BTreeMap<String, Module>,
    ops: &[Op],
) -> Result<(), String> {
    let Some(Op::Attr(name)) = ops.first() else {
        return Err("bare `module`".into());
    };
    let call = m
        .calls
        .get(name)
        .ok_or_else(|| format!("module.{name}: no such module call"))?;
    // The output: the first attribute after the name (past any index for
    // count/for_each calls).
    let output = ops[1..].iter().find_map(|op| match op {
        Op::Attr(a) => Some(a.as_str()),
        Op::Index | Op::Splat => None,
    });
    match (output, called_module(m, call, modules)) {
        (Some(output), Some(called)) if !called.outputs.contains_key(output) => Err(format!(
            "module.{name}.{output}: {} declares no output {output}",
            called.dir
        )),
        _ => Ok(()),
    }
}

pub fn check_module_calls(
    m: &Module,
    modules: &BTreeMap<String, Module>,
    out: &mut Vec<Violation>,
) {
    const META: &[&str] = &[
        "source",
        "version",
        "providers",
        "count",
        "for_each",
        "depends_on",
    ];
    for (name, item) in &m.calls {
        let mut report = |message: String| {
            out.push(Violation {
                rule: "reference",
                file: item.file.clone(),
                address: format!("module.{name}"),
                message,
            })
        };
        let Some(source) = module_source(item) else {
            report("no literal source".into());
            continue;
        };
        if !is_local_source(&source) {
            continue; // a registry or remote module: not in this tree
        }
        let Some(called) = join_source(&m.dir, &source).and_then(|d| modules.get(&d)) else {
            report(format!(
                "source {source}: no module there in the checked tree"
            ));
            continue;
        };
        let passed: BTreeSet<&str> = item
            .block
            .body
            .attributes()
            .map(|a| a.key.as_str())
            .filter(|k| !META.contains(k))
            .collect();
        for arg in &passed {
            if !called.variables.contains_key(*arg) {
                report(format!(
                    "argument {arg}: {} has no such variable",
                    called.dir
                ));
            }
        }
        for (var, v) in &called.variables {
            if attr(&v.block.body, "default").is_none() && !passed.contains(var.as_str()) {
                report(format!(
                    "required variable {var} of {} is not passed",
                    called.dir
                ));
            }
        }
    }
}
