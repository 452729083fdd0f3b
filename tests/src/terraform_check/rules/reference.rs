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
            let attr_at = |i: usize| match ops.get(i) {
                Some(Op::Attr(a)) => Some(a.as_str()),
                _ => None,
            };
            match root.as_str() {
                r if IGNORED_ROOTS.contains(&r) => {}
                "var" => match attr_at(0) {
                    Some(v) if m.variables.contains_key(v) => {
                        if counts_as_use {
                            used_vars.insert(v.to_owned());
                        }
                    }
                    Some(v) => report(format!("var.{v}: no such variable in the module")),
                    None => report("bare `var`".into()),
                },
                "local" => match attr_at(0) {
                    Some(l) if m.locals.contains_key(l) => {}
                    Some(l) => report(format!("local.{l}: no such local")),
                    None => report("bare `local`".into()),
                },
                "data" => match (attr_at(0), attr_at(1)) {
                    (Some(t), Some(n)) if m.data.contains_key(&(t.into(), n.into())) => {}
                    (Some(t), Some(n)) => report(format!("data.{t}.{n}: no such data source")),
                    _ => report("incomplete data source reference".into()),
                },
                "module" => {
                    let Some(name) = attr_at(0) else {
                        report("bare `module`".into());
                        continue;
                    };
                    let Some(call) = m.calls.get(name) else {
                        report(format!("module.{name}: no such module call"));
                        continue;
                    };
                    // The output: the first attribute after the name
                    // (past any index for count/for_each calls).
                    let output = ops[1..].iter().find_map(|op| match op {
                        Op::Attr(a) => Some(a.as_str()),
                        Op::Index | Op::Splat => None,
                    });
                    let called = module_source(call)
                        .filter(|s| is_local_source(s))
                        .and_then(|s| join_source(&m.dir, &s))
                        .and_then(|d| modules.get(&d));
                    if let (Some(output), Some(called)) = (output, called) {
                        if !called.outputs.contains_key(output) {
                            report(format!(
                                "module.{name}.{output}: {} declares no output {output}",
                                called.dir
                            ));
                        }
                    }
                }
                resource_type => match attr_at(0) {
                    Some(n) if m.resources.contains_key(&(resource_type.into(), n.into())) => {}
                    Some(n) => report(format!("{resource_type}.{n}: no such resource")),
                    None => report(format!("{resource_type}: unknown symbol")),
                },
            }
        }
    }
    check_module_calls(m, modules, out);
    used_vars
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
