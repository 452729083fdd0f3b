//! Rule `event-bus-policy`.

use crate::terraform_check::model::*;
use crate::terraform_check::policy::*;
use crate::terraform_check::Violation;
use hcl::expr::{Expression, TraversalOperator};

pub fn check_event_bus_policies(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        let body = &item.block.body;
        let mut report = |message: String| {
            out.push(Violation {
                rule: "event-bus-policy",
                file: item.file.clone(),
                address: resource_address(t, n),
                message,
            })
        };
        match t.as_str() {
            "aws_cloudwatch_event_bus_policy" => {
                let statements = match attr(body, "policy") {
                    Some(e @ Expression::Traversal(tr)) if matches!(&tr.expr, Expression::Variable(v) if v.as_str() == "data") =>
                    {
                        let doc = match tr.operators.as_slice() {
                            [TraversalOperator::GetAttr(ty), TraversalOperator::GetAttr(name), TraversalOperator::GetAttr(json)]
                                if ty.as_str() == "aws_iam_policy_document"
                                    && json.as_str() == "json" =>
                            {
                                m.data.get(&(ty.to_string(), name.to_string()))
                            }
                            _ => None,
                        };
                        match doc {
                            Some(d) => document_statements(&d.block.body),
                            None => {
                                report(format!("cannot verify the policy {}: not a declared aws_iam_policy_document's json", text(e)));
                                continue;
                            }
                        }
                    }
                    Some(Expression::FuncCall(f))
                        if f.name.name.as_str() == "jsonencode" && f.args.len() == 1 =>
                    {
                        json_statements(&f.args[0])
                    }
                    Some(e) => {
                        report(format!("cannot verify the policy {}: neither data.aws_iam_policy_document.X.json nor jsonencode(...)", text(e)));
                        continue;
                    }
                    None => {
                        report("has no policy".into());
                        continue;
                    }
                };
                for (i, s) in statements.iter().enumerate() {
                    if s.allow
                        && s.principal_star
                        && !s
                            .condition_keys
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case("aws:PrincipalOrgID"))
                    {
                        report(format!(
                            "{} admits the principal \"*\" without an aws:PrincipalOrgID condition",
                            s.label(i)
                        ));
                    }
                }
            }
            "aws_cloudwatch_event_permission"
                if attr(body, "principal").and_then(literal) == Some("*") =>
            {
                let org = blocks(body, "condition").any(|c| {
                    attr(&c.body, "key")
                        .and_then(literal)
                        .is_some_and(|k| k.eq_ignore_ascii_case("aws:PrincipalOrgID"))
                });
                if !org {
                    report(
                        "principal \"*\" without a condition { key = \"aws:PrincipalOrgID\" }"
                            .into(),
                    );
                }
            }
            _ => {}
        }
    }
}
