//! Rule `lambda-env`: a function's binary is named by the variable of its
//! package (`var.api_zip` -> `api`); the keys of its environment are exactly
//! the variables that binary reads.
//!
//! When the function's `filename` is a variable of its module and that module
//! is called in the tree (modules/function), the package and the environment
//! are read from each instance of each call (`for_each` evaluated, `each.value`
//! and locals resolved), and reported at the call.

use crate::terraform_check::eval::*;
use crate::terraform_check::model::*;
use crate::terraform_check::refs::called_module;
use crate::terraform_check::{Config, Violation};
use hcl::expr::{Expression, TraversalOperator};
use std::collections::{BTreeMap, BTreeSet};

/// Where a function's package and environment are decided.
pub struct Site<'m> {
    pub module: &'m Module,
    pub file: String,
    pub address: String,
    pub each: Each,
    pub filename: Option<Expression>,
    /// `None`: no environment block; `Some(None)`: a block without variables.
    pub env: Option<Option<Expression>>,
}

/// `X` of `var.X`.
fn var_name(e: &Expression) -> Option<&str> {
    match e {
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [TraversalOperator::GetAttr(a)]) if v.as_str() == "var" => {
                Some(a.as_str())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Every call of module `m` in the tree: (caller, call name, call).
fn callers<'a>(
    m: &Module,
    modules: &'a BTreeMap<String, Module>,
) -> Vec<(&'a Module, &'a str, &'a Item)> {
    modules
        .values()
        .flat_map(|c| {
            c.calls
                .iter()
                .filter(|(_, call)| called_module(c, call, modules).is_some_and(|x| x.dir == m.dir))
                .map(move |(n, call)| (c, n.as_str(), call))
        })
        .collect()
}

pub fn sites<'a>(
    m: &'a Module,
    modules: &'a BTreeMap<String, Module>,
    name: &str,
    item: &Item,
) -> Vec<Site<'a>> {
    let body = &item.block.body;
    let filename = attr(body, "filename");
    let env = blocks(body, "environment")
        .next()
        .map(|b| attr(&b.body, "variables"));
    let calls = callers(m, modules);
    if filename.and_then(var_name).is_none() || calls.is_empty() {
        return vec![Site {
            module: m,
            file: item.file.clone(),
            address: format!("aws_lambda_function.{name}"),
            each: None,
            filename: filename.cloned(),
            env: env.map(|o| o.cloned()),
        }];
    }
    let mut out = Vec::new();
    for (caller, call_name, call) in calls {
        // A variable of the function's module: the call's argument.
        let arg = |e: Option<&Expression>| match e.and_then(var_name) {
            Some(v) => attr(&call.block.body, v).cloned(),
            None => e.cloned(),
        };
        for (key, each) in instances(caller, &call.block.body) {
            out.push(Site {
                module: caller,
                file: call.file.clone(),
                address: instance_address(&format!("module.{call_name}"), &key),
                each,
                filename: arg(filename),
                env: env.map(&arg),
            });
        }
    }
    out
}

/// The binary of a package `var.<binary>_zip`.
fn binary_of(site: &Site) -> Option<String> {
    let ev = Eval {
        m: site.module,
        each: site.each.clone(),
        depth: 0,
    };
    let Val::Opaque(t) = ev.eval(site.filename.as_ref()?) else {
        return None;
    };
    let v = t.strip_prefix("var.")?.strip_suffix("_zip")?;
    (!v.contains(['.', '[', ' '])).then(|| v.replace('_', "-"))
}

/// The keys of the environment, or why they cannot be read.
pub fn env_keys(site: &Site) -> Result<BTreeSet<String>, &'static str> {
    let e = match &site.env {
        None | Some(None) => return Ok(BTreeSet::new()),
        Some(Some(e)) => e,
    };
    if let Expression::Object(obj) = e {
        if obj.iter().any(|(k, _)| object_key(k).is_none()) {
            return Err("an environment key is not a literal");
        }
    }
    let ev = Eval {
        m: site.module,
        each: site.each.clone(),
        depth: 0,
    };
    match ev.eval(e) {
        Val::Obj(map) => Ok(map.into_keys().collect()),
        _ => Err("environment.variables is not a literal map"),
    }
}

fn check_site(
    site: &Site,
    binaries: &BTreeMap<String, BTreeSet<String>>,
    deployed: &mut BTreeSet<String>,
    out: &mut Vec<Violation>,
) {
    let mut report = |message: String| {
        out.push(Violation {
            rule: "lambda-env",
            file: site.file.clone(),
            address: site.address.clone(),
            message,
        })
    };
    let Some(binary) = binary_of(site) else {
        report("filename is not var.<binary>_zip: cannot tell which binary it runs".into());
        return;
    };
    let Some(expected) = binaries.get(&binary) else {
        report(format!(
            "its package names the binary {binary}, which is not one of {:?}",
            binaries.keys().collect::<Vec<_>>()
        ));
        return;
    };
    deployed.insert(binary.clone());
    let actual = match env_keys(site) {
        Ok(keys) => keys,
        Err(message) => return report(message.into()),
    };
    for v in expected.difference(&actual) {
        report(format!("missing {v}, which the {binary} binary reads"));
    }
    for v in actual.difference(expected) {
        report(format!(
            "extra {v}, which the {binary} binary does not read"
        ));
    }
}

pub fn check_lambda_env(
    m: &Module,
    modules: &BTreeMap<String, Module>,
    config: &Config,
    deployed: &mut BTreeSet<String>,
    out: &mut Vec<Violation>,
) {
    let Some(binaries) = &config.binaries else {
        return;
    };
    for ((t, name), item) in &m.resources {
        if t == "aws_lambda_function" {
            for site in sites(m, modules, name, item) {
                check_site(&site, binaries, deployed, out);
            }
        }
    }
}
