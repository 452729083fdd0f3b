//! Policy statements of `aws_iam_policy_document` data sources and of
//! `jsonencode({ Statement = ... })` documents.

use super::model::*;
use hcl::expr::Expression;
use hcl::Body;

#[derive(Debug, Default)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub principal_star: bool,
    pub condition_keys: Vec<String>,
}

impl Statement {
    pub fn label(&self, i: usize) -> String {
        match &self.sid {
            Some(s) => format!("statement {s}"),
            None => format!("statement #{}", i + 1),
        }
    }
}

/// The statements of an `aws_iam_policy_document` (static and dynamic).
pub fn document_statements(body: &Body) -> Vec<Statement> {
    let mut out = Vec::new();
    for b in body.blocks() {
        let sb = match b.identifier.as_str() {
            "statement" => &b.body,
            "dynamic" if label(b, 0) == "statement" => match blocks(&b.body, "content").next() {
                Some(c) => &c.body,
                None => continue,
            },
            _ => continue,
        };
        let principals = |ident: &str| {
            blocks(sb, ident)
                .flat_map(|p| {
                    attr(&p.body, "identifiers")
                        .map(literals)
                        .unwrap_or_default()
                })
                .any(|i| i == "*")
        };
        out.push(Statement {
            sid: attr(sb, "sid").and_then(literal).map(str::to_owned),
            allow: attr(sb, "effect").and_then(literal).unwrap_or("Allow") == "Allow",
            actions: attr(sb, "actions").map(literals).unwrap_or_default(),
            resources: attr(sb, "resources").map(literals).unwrap_or_default(),
            principal_star: principals("principals"),
            condition_keys: blocks(sb, "condition")
                .filter_map(|c| attr(&c.body, "variable").and_then(literal))
                .map(str::to_owned)
                .collect(),
        });
    }
    out
}

/// The statements of a `jsonencode({ Statement = ... })` argument.
pub fn json_statements(doc: &Expression) -> Vec<Statement> {
    let list = match object_get(doc, "Statement") {
        Some(Expression::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(single @ Expression::Object(_)) => vec![single],
        _ => return Vec::new(),
    };
    list.into_iter()
        .map(|s| {
            let principal_star = match object_get(s, "Principal") {
                Some(Expression::Object(obj)) => obj
                    .iter()
                    .any(|(_, v)| literals(v).iter().any(|i| i == "*")),
                Some(other) => literals(other).iter().any(|i| i == "*"),
                None => false,
            };
            let condition_keys = match object_get(s, "Condition") {
                Some(Expression::Object(ops)) => ops
                    .iter()
                    .flat_map(|(_, keys)| match keys {
                        Expression::Object(k) => {
                            k.iter().filter_map(|(k, _)| object_key(k)).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Statement {
                sid: object_get(s, "Sid").and_then(literal).map(str::to_owned),
                allow: object_get(s, "Effect").and_then(literal).unwrap_or("Allow") == "Allow",
                actions: object_get(s, "Action").map(literals).unwrap_or_default(),
                resources: object_get(s, "Resource").map(literals).unwrap_or_default(),
                principal_star,
                condition_keys,
            }
        })
        .collect()
}

/// Every `jsonencode(...)` argument inside an expression.
pub fn jsonencode_args<'a>(e: &'a Expression, out: &mut Vec<&'a Expression>) {
    match e {
        Expression::FuncCall(f) => {
            if f.name.name.as_str() == "jsonencode" && f.args.len() == 1 {
                out.push(&f.args[0]);
            }
            f.args.iter().for_each(|a| jsonencode_args(a, out));
        }
        Expression::Array(items) => items.iter().for_each(|i| jsonencode_args(i, out)),
        Expression::Object(obj) => obj.iter().for_each(|(_, v)| jsonencode_args(v, out)),
        Expression::Parenthesis(inner) => jsonencode_args(inner, out),
        Expression::Conditional(c) => {
            jsonencode_args(&c.true_expr, out);
            jsonencode_args(&c.false_expr, out);
        }
        _ => {}
    }
}

pub fn jsonencode_in_body<'a>(body: &'a Body, out: &mut Vec<&'a Expression>) {
    for a in body.attributes() {
        jsonencode_args(&a.expr, out);
    }
    for b in body.blocks() {
        jsonencode_in_body(&b.body, out);
    }
}

pub const READ_PREFIXES: &[&str] = &[
    "Get", "List", "Describe", "Query", "Scan", "BatchGet", "Filter", "Lookup", "Search", "Read",
    "Head",
];

pub fn is_write(action: &str) -> bool {
    let verb = action.split_once(':').map(|(_, v)| v).unwrap_or(action);
    !READ_PREFIXES.iter().any(|p| verb.starts_with(p))
}

pub fn is_wildcard(action: &str) -> bool {
    action == "*" || action.ends_with(":*")
}
