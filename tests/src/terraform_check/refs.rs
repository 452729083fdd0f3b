//! The references of a module's expressions (`var.X`, `local.X`,
//! `TYPE.NAME`, `data.TYPE.NAME`, `module.M`), with their scopes.

use super::model::*;
use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::Body;

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Attr(String),
    Index,
    Splat,
}

#[derive(Debug)]
pub enum Found {
    Ref { root: String, ops: Vec<Op> },
    BadTemplate(String),
}

pub fn refs_in_expr(e: &Expression, scope: &mut Vec<String>, out: &mut Vec<Found>) {
    match e {
        Expression::Null | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
        Expression::Array(items) => items.iter().for_each(|i| refs_in_expr(i, scope, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                // A bare identifier key is a name, not a reference.
                if let ObjectKey::Expression(ke) = k {
                    refs_in_expr(ke, scope, out);
                }
                refs_in_expr(v, scope, out);
            }
        }
        Expression::TemplateExpr(t) => refs_in_template_expr(t, scope, out),
        Expression::Variable(v) => push_ref(v.as_str(), Vec::new(), scope, out),
        Expression::Traversal(t) => {
            let ops: Vec<Op> = t
                .operators
                .iter()
                .map(|op| match op {
                    TraversalOperator::GetAttr(id) => Op::Attr(id.to_string()),
                    TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => Op::Index,
                    TraversalOperator::AttrSplat | TraversalOperator::FullSplat => Op::Splat,
                })
                .collect();
            match &t.expr {
                Expression::Variable(v) => push_ref(v.as_str(), ops, scope, out),
                other => refs_in_expr(other, scope, out),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(ie) = op {
                    refs_in_expr(ie, scope, out);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| refs_in_expr(a, scope, out)),
        Expression::Parenthesis(inner) => refs_in_expr(inner, scope, out),
        Expression::Conditional(c) => {
            refs_in_expr(&c.cond_expr, scope, out);
            refs_in_expr(&c.true_expr, scope, out);
            refs_in_expr(&c.false_expr, scope, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => refs_in_expr(&u.expr, scope, out),
            hcl::expr::Operation::Binary(b) => {
                refs_in_expr(&b.lhs_expr, scope, out);
                refs_in_expr(&b.rhs_expr, scope, out);
            }
        },
        Expression::ForExpr(f) => {
            refs_in_expr(&f.collection_expr, scope, out);
            let n = scope.len();
            if let Some(k) = &f.key_var {
                scope.push(k.to_string());
            }
            scope.push(f.value_var.to_string());
            if let Some(k) = &f.key_expr {
                refs_in_expr(k, scope, out);
            }
            refs_in_expr(&f.value_expr, scope, out);
            if let Some(c) = &f.cond_expr {
                refs_in_expr(c, scope, out);
            }
            scope.truncate(n);
        }
        _ => {}
    }
}

pub fn refs_in_template_expr(t: &TemplateExpr, scope: &mut Vec<String>, out: &mut Vec<Found>) {
    match Template::from_expr(t) {
        Ok(template) => refs_in_template(&template, scope, out),
        Err(e) => out.push(Found::BadTemplate(format!(
            "template {t:?} does not parse: {e}"
        ))),
    }
}

pub fn refs_in_template(t: &Template, scope: &mut Vec<String>, out: &mut Vec<Found>) {
    for element in t.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => refs_in_expr(&i.expr, scope, out),
            Element::Directive(Directive::If(d)) => {
                refs_in_expr(&d.cond_expr, scope, out);
                refs_in_template(&d.true_template, scope, out);
                if let Some(f) = &d.false_template {
                    refs_in_template(f, scope, out);
                }
            }
            Element::Directive(Directive::For(d)) => {
                refs_in_expr(&d.collection_expr, scope, out);
                let n = scope.len();
                if let Some(k) = &d.key_var {
                    scope.push(k.to_string());
                }
                scope.push(d.value_var.to_string());
                refs_in_template(&d.template, scope, out);
                scope.truncate(n);
            }
        }
    }
}

pub fn push_ref(root: &str, ops: Vec<Op>, scope: &[String], out: &mut Vec<Found>) {
    if !scope.iter().any(|s| s == root) {
        out.push(Found::Ref {
            root: root.to_owned(),
            ops,
        });
    }
}

/// References in a block body. `skip` names attributes that hold no
/// expression (meta-arguments such as `provider`).
pub fn refs_in_body(body: &Body, skip: &[&str], scope: &mut Vec<String>, out: &mut Vec<Found>) {
    for a in body.attributes() {
        if !skip.contains(&a.key.as_str()) && a.key.as_str() != "ignore_changes" {
            refs_in_expr(&a.expr, scope, out);
        }
    }
    for b in body.blocks() {
        if b.identifier.as_str() == "dynamic" {
            if let Some(fe) = attr(&b.body, "for_each") {
                refs_in_expr(fe, scope, out);
            }
            let iterator = match attr(&b.body, "iterator") {
                Some(Expression::Variable(v)) => v.to_string(),
                _ => label(b, 0).to_owned(),
            };
            let n = scope.len();
            scope.push(iterator);
            refs_in_body(&b.body, &["for_each", "iterator"], scope, out);
            scope.truncate(n);
        } else {
            refs_in_body(&b.body, &[], scope, out);
        }
    }
}

/// Every place of a module that holds expressions, with its address;
/// `counts_as_use` is false for variable blocks.
pub fn expression_sites(m: &Module) -> Vec<(String, String, Vec<Found>, bool)> {
    let mut sites = Vec::new();
    let mut collect = |file: &str, address: String, body: &Body, skip: &[&str], used: bool| {
        let mut out = Vec::new();
        refs_in_body(body, skip, &mut Vec::new(), &mut out);
        sites.push((file.to_owned(), address, out, used));
    };
    for ((t, n), item) in &m.resources {
        collect(
            &item.file,
            resource_address(t, n),
            &item.block.body,
            &["provider"],
            true,
        );
    }
    for ((t, n), item) in &m.data {
        collect(
            &item.file,
            format!("data.{t}.{n}"),
            &item.block.body,
            &["provider"],
            true,
        );
    }
    for (n, item) in &m.calls {
        collect(
            &item.file,
            format!("module.{n}"),
            &item.block.body,
            &["source", "version", "providers"],
            true,
        );
    }
    for (n, item) in &m.outputs {
        collect(
            &item.file,
            format!("output.{n}"),
            &item.block.body,
            &[],
            true,
        );
    }
    for (n, item) in &m.variables {
        collect(
            &item.file,
            format!("var.{n}"),
            &item.block.body,
            &["type"],
            false,
        );
    }
    // `moved` blocks hold addresses, not expressions (rule `moved`).
    for item in m
        .others
        .iter()
        .filter(|i| i.block.identifier.as_str() != "moved")
    {
        let address = std::iter::once(item.block.identifier.to_string())
            .chain(item.block.labels.iter().map(|l| l.as_str().to_owned()))
            .collect::<Vec<_>>()
            .join(".");
        collect(&item.file, address, &item.block.body, &[], true);
    }
    for (n, (file, e)) in &m.locals {
        let mut out = Vec::new();
        refs_in_expr(e, &mut Vec::new(), &mut out);
        sites.push((file.clone(), format!("local.{n}"), out, true));
    }
    sites
}

pub const IGNORED_ROOTS: &[&str] = &["each", "count", "self", "path", "terraform"];

pub fn module_source(item: &Item) -> Option<String> {
    attr(&item.block.body, "source")
        .and_then(literal)
        .map(str::to_owned)
}

pub fn is_local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// The module a call refers to, when its source is a local folder of the tree.
pub fn called_module<'a>(
    m: &Module,
    call: &Item,
    modules: &'a std::collections::BTreeMap<String, Module>,
) -> Option<&'a Module> {
    module_source(call)
        .filter(|s| is_local_source(s))
        .and_then(|s| crate::terraform_check::tree::join_source(&m.dir, &s))
        .and_then(|d| modules.get(&d))
}
