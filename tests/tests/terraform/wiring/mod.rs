//! The wiring the modules must keep, read from the real files: a first
//! `terraform apply` on a new account (no reserved concurrency by default,
//! the API Gateway logging role, no CORS preflight that a browser cannot
//! pass), and agents in any region (their envelopes go through their own
//! regional default bus, then a rule to the master bus).

use super::terraform_root;

mod agents;
mod first_apply;

use e2e_tests::terraform_check::model::{attr, blocks, label, literal, literals, object_key, text};
use hcl::expr::{Expression, TraversalOperator};
use hcl::{Block, Body, Structure};
use std::collections::BTreeMap;

/// The top-level blocks of one module folder (all its `.tf` files).
pub struct Module {
    pub dir: String,
    pub blocks: Vec<Block>,
    /// The files' text, concatenated.
    pub text: String,
}

impl Module {
    pub fn load(dir: &str) -> Module {
        let path = terraform_root().join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("terraform/{dir}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        files.sort();
        let mut module = Module {
            dir: dir.to_owned(),
            blocks: Vec::new(),
            text: String::new(),
        };
        for f in files {
            let src = std::fs::read_to_string(&f).expect("read");
            let body: Body = hcl::parse(&src).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            module
                .blocks
                .extend(body.into_iter().filter_map(|s| match s {
                    Structure::Block(b) => Some(b),
                    Structure::Attribute(_) => None,
                }));
            module.text.push_str(&src);
        }
        assert!(!module.blocks.is_empty(), "terraform/{dir} holds no block");
        module
    }

    /// Blocks `kind "t" ...` (`resource`/`data` of type `t`, or
    /// `variable`/`module` named `t`).
    pub fn all(&self, kind: &str, t: &str) -> std::vec::IntoIter<&Block> {
        self.blocks
            .iter()
            .filter(|b| b.identifier.as_str() == kind && label(b, 0) == t)
            .collect::<Vec<_>>()
            .into_iter()
    }

    pub fn one(&self, kind: &str, t: &str, name: &str) -> &Block {
        self.all(kind, t)
            .find(|b| label(b, 1) == name)
            .unwrap_or_else(|| panic!("terraform/{}: no {kind} {t}.{name}", self.dir))
    }

    pub fn variable(&self, name: &str) -> &Block {
        self.all("variable", name)
            .next()
            .unwrap_or_else(|| panic!("terraform/{}: no variable {name}", self.dir))
    }

    /// The Lambda functions: (address, block, the argument that reserves
    /// concurrency) of every `aws_lambda_function` and of every call of
    /// modules/function.
    pub fn functions(&self) -> Vec<(String, &Block, &'static str)> {
        let resources = self.all("resource", "aws_lambda_function").map(|f| {
            let address = format!("aws_lambda_function.{}", label(f, 1));
            (address, f, "reserved_concurrent_executions")
        });
        let calls = self
            .blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "module" && is_function_module(b))
            .map(|b| (format!("module.{}", label(b, 0)), b, "reserved_concurrency"));
        resources.chain(calls).collect()
    }

    /// Every call of modules/function, at least one.
    pub fn function_calls(&self) -> Vec<&Block> {
        let calls: Vec<_> = self
            .blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "module" && is_function_module(b))
            .collect();
        assert!(
            !calls.is_empty(),
            "terraform/{}: a call of modules/function",
            self.dir
        );
        calls
    }

    pub fn locals(&self) -> BTreeMap<String, Expression> {
        self.blocks
            .iter()
            .filter(|b| b.identifier.as_str() == "locals")
            .flat_map(|b| b.body.attributes())
            .map(|a| (a.key.to_string(), a.expr.clone()))
            .collect()
    }
}

pub fn is_function_module(call: &Block) -> bool {
    attr(&call.body, "source").and_then(literal) == Some("../function")
}

/// `X` of `root.X` (exactly one attribute after the root).
pub fn root_attr<'a>(e: &'a Expression, root: &str) -> Option<&'a str> {
    match e {
        Expression::Traversal(tr) => match (&tr.expr, tr.operators.as_slice()) {
            (Expression::Variable(v), [TraversalOperator::GetAttr(a)]) if v.as_str() == root => {
                Some(a.as_str())
            }
            _ => None,
        },
        Expression::Parenthesis(inner) => root_attr(inner, root),
        _ => None,
    }
}

/// `N` of a reference `prefix.N...` (`aws_iam_role.forward.arn`,
/// `aws_cloudwatch_event_rule.forward[0].name`,
/// `data.aws_iam_policy_document.forward.json`).
pub fn ref_to(e: &Expression, prefix: &str) -> Option<String> {
    let t = text(e);
    let rest = t.strip_prefix(prefix)?.strip_prefix('.')?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// `local.X` replaced by its value, recursively.
pub fn resolve(e: &Expression, locals: &BTreeMap<String, Expression>) -> Expression {
    match root_attr(e, "local").and_then(|l| locals.get(l)) {
        Some(v) => resolve(v, locals),
        None => e.clone(),
    }
}

/// Every object literal inside `e`, looking through locals, function
/// calls (`jsonencode`, `concat`), conditionals and `for` expressions.
pub fn objects(e: &Expression, locals: &BTreeMap<String, Expression>, out: &mut Vec<Expression>) {
    match e {
        Expression::Traversal(_) => {
            if let Some(v) = root_attr(e, "local").and_then(|l| locals.get(l)) {
                objects(v, locals, out);
            }
        }
        Expression::Object(obj) => {
            out.push(e.clone());
            obj.iter().for_each(|(_, v)| objects(v, locals, out));
        }
        Expression::Array(items) => items.iter().for_each(|i| objects(i, locals, out)),
        Expression::FuncCall(f) => f.args.iter().for_each(|a| objects(a, locals, out)),
        Expression::Parenthesis(inner) => objects(inner, locals, out),
        Expression::Conditional(c) => {
            objects(&c.true_expr, locals, out);
            objects(&c.false_expr, locals, out);
        }
        Expression::ForExpr(f) => {
            objects(&f.collection_expr, locals, out);
            objects(&f.value_expr, locals, out);
        }
        _ => {}
    }
}

pub fn keys_of(e: &Expression) -> Vec<String> {
    match e {
        Expression::Object(obj) => obj.iter().filter_map(|(k, _)| object_key(k)).collect(),
        _ => Vec::new(),
    }
}

/// The statements of an `aws_iam_policy_document` (static ones and the
/// `content` of `dynamic "statement"` blocks).
pub fn statements(doc: &Block) -> Vec<&Body> {
    blocks(&doc.body, "statement")
        .map(|b| &b.body)
        .chain(
            blocks(&doc.body, "dynamic")
                .filter(|d| label(d, 0) == "statement")
                .flat_map(|d| blocks(&d.body, "content"))
                .map(|b| &b.body),
        )
        .collect()
}

/// (actions, resources as text) of every statement of every inline
/// policy of the role `aws_iam_role.<role>`.
pub fn role_grants(m: &Module, role: &str) -> Vec<(Vec<String>, String)> {
    assert!(
        !m.all("resource", "aws_iam_role_policy_attachment")
            .any(|a| attr(&a.body, "role")
                .and_then(|e| ref_to(e, "aws_iam_role"))
                .as_deref()
                == Some(role)),
        "aws_iam_role.{role} has a managed policy attached: its grants cannot be read here"
    );
    let mut grants = Vec::new();
    for policy in m.all("resource", "aws_iam_role_policy") {
        if attr(&policy.body, "role")
            .and_then(|e| ref_to(e, "aws_iam_role"))
            .as_deref()
            != Some(role)
        {
            continue;
        }
        let doc = attr(&policy.body, "policy")
            .and_then(|e| ref_to(e, "data.aws_iam_policy_document"))
            .unwrap_or_else(|| {
                panic!(
                    "the policies of aws_iam_role.{role} are aws_iam_policy_document data sources"
                )
            });
        for st in statements(m.one("data", "aws_iam_policy_document", &doc)) {
            let actions = attr(st, "actions").map(literals).unwrap_or_default();
            let resources = attr(st, "resources")
                .map(|e| squash(&text(e)))
                .unwrap_or_default();
            grants.push((actions, resources));
        }
    }
    grants
}

/// (actions, resources as text) of every statement of
/// `data.aws_iam_policy_document.<doc>`.
pub fn document_grants(m: &Module, doc: &str) -> Vec<(Vec<String>, String)> {
    statements(m.one("data", "aws_iam_policy_document", doc))
        .into_iter()
        .map(|st| {
            let actions = attr(st, "actions").map(literals).unwrap_or_default();
            let resources = attr(st, "resources")
                .map(|e| squash(&text(e)))
                .unwrap_or_default();
            (actions, resources)
        })
        .collect()
}

/// `s` without whitespace (the formatter breaks lists over lines).
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect()
}

pub fn contains_number(e: &Expression) -> bool {
    match e {
        Expression::Number(_) => true,
        Expression::Array(items) => items.iter().any(contains_number),
        Expression::Object(obj) => obj.iter().any(|(_, v)| contains_number(v)),
        Expression::FuncCall(f) => f.args.iter().any(contains_number),
        Expression::Parenthesis(inner) => contains_number(inner),
        Expression::Conditional(c) => {
            contains_number(&c.true_expr) || contains_number(&c.false_expr)
        }
        _ => false,
    }
}
