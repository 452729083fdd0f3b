//! Rule `lambda`: runtime, handler, dead-letter queue or on-failure
//! destination, and a log group with the function's name and a retention.

use crate::terraform_check::eval::*;
use crate::terraform_check::model::*;
use crate::terraform_check::Violation;
use hcl::expr::Expression;
use hcl::Body;

pub fn check_lambdas(m: &Module, out: &mut Vec<Violation>) {
    for ((t, name), item) in &m.resources {
        if t != "aws_lambda_function" {
            continue;
        }
        let base = resource_address(t, name);
        let body = &item.block.body;
        let mut report = |rule: &'static str, address: &str, message: String| {
            out.push(Violation {
                rule,
                file: item.file.clone(),
                address: address.to_owned(),
                message,
            })
        };

        if attr(body, "runtime").and_then(literal) != Some("provided.al2023") {
            report(
                "lambda",
                &base,
                "runtime must be \"provided.al2023\"".into(),
            );
        }
        if attr(body, "handler").and_then(literal) != Some("bootstrap") {
            report("lambda", &base, "handler must be \"bootstrap\"".into());
        }

        // Dead-letter queue or on-failure destination.
        let has_dlq =
            blocks(body, "dead_letter_config").any(|b| attr(&b.body, "target_arn").is_some());
        let has_on_failure = m.resources.iter().any(|((it, _), inv)| {
            it == "aws_lambda_function_event_invoke_config"
                && attr(&inv.block.body, "function_name")
                    .and_then(|e| resource_ref(e, "aws_lambda_function"))
                    .is_some_and(|(n, _)| &n == name)
                && blocks(&inv.block.body, "destination_config").any(|d| {
                    blocks(&d.body, "on_failure").any(|f| attr(&f.body, "destination").is_some())
                })
        });
        if !has_dlq && !has_on_failure {
            report(
                "lambda",
                &base,
                "no dead_letter_config { target_arn } and no aws_lambda_function_event_invoke_config with destination_config.on_failure for it".into(),
            );
        }

        // Log group, per instance.
        for (key, each) in instances(m, body) {
            let address = instance_address(&base, &key);
            if let Err(message) = check_log_group(m, body, each) {
                report("lambda", &address, message);
            }
        }
    }
}

/// Every instance of every log group of the module: (name, key, item, each).
type Group<'m> = (String, Option<String>, &'m Item, Each);

fn log_groups(m: &Module) -> Vec<Group<'_>> {
    m.resources
        .iter()
        .filter(|((t, _), _)| t == "aws_cloudwatch_log_group")
        .flat_map(|((_, n), item)| {
            instances(m, &item.block.body)
                .into_iter()
                .map(move |(k, e)| (n.clone(), k, item, e))
        })
        .collect()
}

/// The evaluated `name` of a log group instance.
fn group_name(m: &Module, item: &Item, each: &Each) -> Option<String> {
    let ev = Eval {
        m,
        each: each.clone(),
        depth: 0,
    };
    attr(&item.block.body, "name")
        .map(|n| ev.eval(n))
        .and_then(|v| v.render())
}

/// The function's log group: the one named by `logging_config`, else by
/// `depends_on`, else any whose name is `expected`. (address, item, name).
fn find_group<'m>(
    m: &'m Module,
    body: &Body,
    fn_eval: &Eval,
    expected: &str,
) -> Result<(String, &'m Item, Option<String>), String> {
    let logging = blocks(body, "logging_config")
        .filter_map(|b| attr(&b.body, "log_group"))
        .find_map(|e| resource_ref(e, "aws_cloudwatch_log_group"));
    let depends = || match attr(body, "depends_on") {
        Some(Expression::Array(items)) => items
            .iter()
            .find_map(|e| resource_ref(e, "aws_cloudwatch_log_group")),
        _ => None,
    };
    let groups = log_groups(m);
    let found = match logging.or_else(depends) {
        Some((gname, idx)) => {
            let key = idx.map(|i| fn_eval.eval(i).render());
            let found = groups.iter().find(|(n, k, _, _)| {
                n == &gname
                    && match (&key, k) {
                        (None, None) => true,
                        (Some(Some(want)), Some(have)) => want == have,
                        _ => false,
                    }
            });
            found.ok_or_else(|| format!(
                "its log group aws_cloudwatch_log_group.{gname}{} is not declared (or its instance cannot be resolved)",
                key.flatten().map(|k| format!("[{k:?}]")).unwrap_or_default()
            ))?
        }
        None => groups
            .iter()
            .find(|(_, _, item, e)| group_name(m, item, e).as_deref() == Some(expected))
            .ok_or_else(|| format!(
                "no aws_cloudwatch_log_group named {expected} (none in logging_config.log_group or depends_on either)"
            ))?,
    };
    let (n, k, item, e) = found;
    Ok((
        instance_address(&resource_address("aws_cloudwatch_log_group", n), k),
        *item,
        group_name(m, item, e),
    ))
}

pub fn check_log_group(m: &Module, body: &Body, each: Each) -> Result<(), String> {
    let fn_eval = Eval { m, each, depth: 0 };
    let function_name = attr(body, "function_name")
        .map(|e| fn_eval.eval(e))
        .and_then(|v| v.render())
        .ok_or("function_name is missing or not a string")?;
    let expected = format!("/aws/lambda/{function_name}");
    let (group_address, item, name) = find_group(m, body, &fn_eval, &expected)?;
    match name {
        Some(g) if g == expected => {}
        Some(g) => {
            return Err(format!(
                "its log group {group_address} is named {g}, not {expected}"
            ))
        }
        None => {
            return Err(format!(
                "its log group {group_address} has no name that evaluates to {expected}"
            ))
        }
    }
    match attr(&item.block.body, "retention_in_days") {
        Some(Expression::Null) | None => Err(format!(
            "its log group {group_address} sets no retention_in_days"
        )),
        Some(_) => Ok(()),
    }
}
