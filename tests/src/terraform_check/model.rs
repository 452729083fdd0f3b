//! A parsed module (its variables, locals, resources, data sources, module
//! calls and outputs) and helpers to read HCL bodies.

use super::Violation;
use hcl::expr::{Expression, ObjectKey};
use hcl::{Block, Body, Structure};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Item {
    pub file: String,
    pub block: Block,
}

#[derive(Default)]
pub struct Module {
    pub dir: String,
    pub variables: BTreeMap<String, Item>,
    pub locals: BTreeMap<String, (String, Expression)>,
    pub resources: BTreeMap<(String, String), Item>,
    pub data: BTreeMap<(String, String), Item>,
    pub calls: BTreeMap<String, Item>,
    pub outputs: BTreeMap<String, Item>,
    /// provider, moved, import, check, removed blocks.
    pub others: Vec<Item>,
}

pub fn label(block: &Block, i: usize) -> &str {
    block.labels.get(i).map(|l| l.as_str()).unwrap_or("")
}

pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
}

pub fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks()
        .filter(move |b| b.identifier.as_str() == ident)
}

pub fn has_block(body: &Body, ident: &str) -> bool {
    blocks(body, ident).next().is_some()
}

pub fn literal(e: &Expression) -> Option<&str> {
    match e {
        Expression::String(s) => Some(s),
        Expression::Parenthesis(inner) => literal(inner),
        _ => None,
    }
}

/// The string literals of a string or of an array of strings.
pub fn literals(e: &Expression) -> Vec<String> {
    match e {
        Expression::Array(items) => items
            .iter()
            .filter_map(literal)
            .map(str::to_owned)
            .collect(),
        other => literal(other).map(str::to_owned).into_iter().collect(),
    }
}

/// Every string literal anywhere inside `e`.
pub fn all_literals(e: &Expression, out: &mut Vec<String>) {
    match e {
        Expression::String(s) => out.push(s.clone()),
        Expression::Array(items) => items.iter().for_each(|i| all_literals(i, out)),
        Expression::Object(obj) => obj.iter().for_each(|(_, v)| all_literals(v, out)),
        Expression::Parenthesis(inner) => all_literals(inner, out),
        Expression::Conditional(c) => {
            all_literals(&c.true_expr, out);
            all_literals(&c.false_expr, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| all_literals(a, out)),
        _ => {}
    }
}

pub fn text(e: &Expression) -> String {
    hcl::format::to_string(e).unwrap_or_else(|_| format!("{e:?}"))
}

pub fn object_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Identifier(id) => Some(id.to_string()),
        ObjectKey::Expression(e) => literal(e).map(str::to_owned),
        _ => None,
    }
}

pub fn object_get<'a>(e: &'a Expression, key: &str) -> Option<&'a Expression> {
    match e {
        Expression::Object(obj) => obj
            .iter()
            .find(|(k, _)| object_key(k).as_deref() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

pub fn parse_module(dir: &str, files: &[(String, String)], out: &mut Vec<Violation>) -> Module {
    let mut m = Module {
        dir: dir.to_owned(),
        ..Module::default()
    };
    for (file, contents) in files {
        let body = match hcl::parse(contents) {
            Ok(body) => body,
            Err(e) => {
                out.push(Violation {
                    rule: "parse",
                    file: file.clone(),
                    address: "-".into(),
                    message: format!("does not parse: {e}"),
                });
                continue;
            }
        };
        for structure in body.into_inner() {
            let block = match structure {
                Structure::Block(b) => b,
                Structure::Attribute(a) => {
                    out.push(Violation {
                        rule: "parse",
                        file: file.clone(),
                        address: a.key.to_string(),
                        message: "attribute at the top level of a .tf file".into(),
                    });
                    continue;
                }
            };
            let item = Item {
                file: file.clone(),
                block: block.clone(),
            };
            let (l0, l1) = (label(&block, 0).to_owned(), label(&block, 1).to_owned());
            let duplicate = match block.identifier.as_str() {
                "variable" => m.variables.insert(l0.clone(), item).is_some(),
                "resource" => m.resources.insert((l0.clone(), l1.clone()), item).is_some(),
                "data" => m.data.insert((l0.clone(), l1.clone()), item).is_some(),
                "module" => m.calls.insert(l0.clone(), item).is_some(),
                "output" => m.outputs.insert(l0.clone(), item).is_some(),
                "locals" => {
                    let mut dup = false;
                    for a in block.body.attributes() {
                        dup |= m
                            .locals
                            .insert(a.key.to_string(), (file.clone(), a.expr.clone()))
                            .is_some();
                    }
                    dup
                }
                "terraform" => false,
                _ => {
                    m.others.push(item);
                    false
                }
            };
            if duplicate {
                out.push(Violation {
                    rule: "parse",
                    file: file.clone(),
                    address: format!("{} {l0} {l1}", block.identifier),
                    message: "declared twice".into(),
                });
            }
        }
    }
    m
}

pub fn resource_address(t: &str, n: &str) -> String {
    format!("{t}.{n}")
}
