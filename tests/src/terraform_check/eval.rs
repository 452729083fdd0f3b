//! Symbolic evaluation: values as far as they can be known without a plan.

use super::model::*;
use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::template::{Element, Template};
use hcl::Body;
use std::collections::BTreeMap;

/// A value as far as it can be known without a plan: strings may hold
/// `${...}` placeholders for what is unknown (`${var.name}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Opaque(String),
    List(Vec<Val>),
    Obj(BTreeMap<String, Val>),
}

impl Val {
    pub fn render(&self) -> Option<String> {
        match self {
            Val::Str(s) => Some(s.clone()),
            Val::Opaque(t) => Some(format!("${{{t}}}")),
            _ => None,
        }
    }
}

pub type Each = Option<(Val, Val)>;

pub struct Eval<'m> {
    pub m: &'m Module,
    pub each: Each,
    pub depth: usize,
}

impl Eval<'_> {
    pub fn eval(&self, e: &Expression) -> Val {
        if self.depth > 32 {
            return Val::Opaque(text(e));
        }
        match e {
            Expression::String(s) => Val::Str(s.clone()),
            Expression::Number(n) => Val::Str(n.to_string()),
            Expression::Bool(b) => Val::Str(b.to_string()),
            Expression::Array(items) => Val::List(items.iter().map(|i| self.eval(i)).collect()),
            Expression::Object(obj) => {
                let mut map = BTreeMap::new();
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.to_string(),
                        ObjectKey::Expression(ke) => match self.eval(ke) {
                            Val::Str(s) => s,
                            _ => return Val::Opaque(text(e)),
                        },
                        _ => return Val::Opaque(text(e)),
                    };
                    map.insert(key, self.eval(v));
                }
                Val::Obj(map)
            }
            Expression::Parenthesis(inner) => self.eval(inner),
            Expression::TemplateExpr(t) => self.eval_template(t).unwrap_or(Val::Opaque(text(e))),
            Expression::FuncCall(f)
                if f.args.len() == 1
                    && ["tostring", "toset", "tomap", "tolist"].contains(&f.name.name.as_str()) =>
            {
                self.eval(&f.args[0])
            }
            Expression::Traversal(t) => self.eval_traversal(e, t),
            _ => Val::Opaque(text(e)),
        }
    }

    /// `local.X...` and `each.key`/`each.value...`, through object and list
    /// lookups; anything else is opaque.
    fn eval_traversal(&self, e: &Expression, t: &hcl::expr::Traversal) -> Val {
        let Expression::Variable(root) = &t.expr else {
            return Val::Opaque(text(e));
        };
        let (start, rest) = match (root.as_str(), t.operators.first()) {
            ("local", Some(TraversalOperator::GetAttr(name))) => {
                match self.m.locals.get(name.as_str()) {
                    Some((_, le)) => {
                        let inner = Eval {
                            m: self.m,
                            each: None,
                            depth: self.depth + 1,
                        };
                        (inner.eval(le), &t.operators[1..])
                    }
                    None => return Val::Opaque(text(e)),
                }
            }
            ("each", Some(TraversalOperator::GetAttr(which))) => {
                match (&self.each, which.as_str()) {
                    (Some((k, _)), "key") => (k.clone(), &t.operators[1..]),
                    (Some((_, v)), "value") => (v.clone(), &t.operators[1..]),
                    _ => return Val::Opaque(text(e)),
                }
            }
            _ => return Val::Opaque(text(e)),
        };
        let mut v = start;
        for op in rest {
            let key = match op {
                TraversalOperator::GetAttr(a) => Some(a.to_string()),
                TraversalOperator::Index(ie) => match self.eval(ie) {
                    Val::Str(s) => Some(s),
                    _ => None,
                },
                TraversalOperator::LegacyIndex(i) => Some(i.to_string()),
                _ => None,
            };
            let next = match (&v, key) {
                (Val::Obj(map), Some(k)) => map.get(&k).cloned(),
                (Val::List(items), Some(k)) => {
                    k.parse::<usize>().ok().and_then(|i| items.get(i).cloned())
                }
                _ => None,
            };
            match next {
                Some(n) => v = n,
                None => return Val::Opaque(text(e)),
            }
        }
        v
    }

    pub fn eval_template(&self, t: &TemplateExpr) -> Option<Val> {
        let template = Template::from_expr(t).ok()?;
        let mut s = String::new();
        for element in template.elements() {
            match element {
                Element::Literal(l) => s.push_str(l),
                Element::Interpolation(i) => s.push_str(&self.eval(&i.expr).render()?),
                Element::Directive(_) => return None,
            }
        }
        Some(Val::Str(s))
    }
}

/// The instances of a resource: (key, each). A `for_each` that cannot
/// be evaluated gives one instance with unknown `each`.
pub fn instances(m: &Module, body: &Body) -> Vec<(Option<String>, Each)> {
    let Some(fe) = attr(body, "for_each") else {
        return vec![(None, None)];
    };
    let ev = Eval {
        m,
        each: None,
        depth: 0,
    };
    match ev.eval(fe) {
        Val::Obj(map) => map
            .into_iter()
            .map(|(k, v)| (Some(k.clone()), Some((Val::Str(k), v))))
            .collect(),
        Val::List(items) if items.iter().all(|i| matches!(i, Val::Str(_))) => items
            .into_iter()
            .map(|i| {
                let Val::Str(s) = &i else { unreachable!() };
                (Some(s.clone()), Some((i.clone(), i)))
            })
            .collect(),
        _ => vec![(
            None,
            Some((
                Val::Opaque("each.key".into()),
                Val::Opaque("each.value".into()),
            )),
        )],
    }
}

pub fn instance_address(base: &str, key: &Option<String>) -> String {
    match key {
        Some(k) => format!("{base}[{k:?}]"),
        None => base.to_owned(),
    }
}

/// `TYPE.NAME[idx]...` -> (NAME, idx).
pub fn resource_ref<'a>(
    e: &'a Expression,
    rtype: &str,
) -> Option<(String, Option<&'a Expression>)> {
    let Expression::Traversal(t) = e else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != rtype {
        return None;
    }
    let Some(TraversalOperator::GetAttr(name)) = t.operators.first() else {
        return None;
    };
    let idx = match t.operators.get(1) {
        Some(TraversalOperator::Index(ie)) => Some(ie),
        _ => None,
    };
    Some((name.to_string(), idx))
}
