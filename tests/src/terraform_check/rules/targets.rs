//! Rules `event-target`, `scheduler` and `api-gateway`.

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;

pub fn check_targets_schedules_methods(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        let body = &item.block.body;
        let mut report = |rule: &'static str, message: &str| {
            out.push(Violation {
                rule,
                file: item.file.clone(),
                address: resource_address(t, n),
                message: message.to_owned(),
            })
        };
        match t.as_str() {
            "aws_cloudwatch_event_target" => {
                if !has_block(body, "retry_policy") {
                    report("event-target", "has no retry_policy block");
                }
                if !has_block(body, "dead_letter_config") {
                    report("event-target", "has no dead_letter_config block");
                }
            }
            "aws_scheduler_schedule" => {
                let targets: Vec<_> = blocks(body, "target").collect();
                if targets.is_empty() {
                    report("scheduler", "has no target block");
                }
                for target in targets {
                    if !has_block(&target.body, "retry_policy") {
                        report("scheduler", "its target has no retry_policy block");
                    }
                    if !has_block(&target.body, "dead_letter_config") {
                        report("scheduler", "its target has no dead_letter_config block");
                    }
                }
            }
            "aws_api_gateway_method" => match attr(body, "authorization") {
                None => report("api-gateway", "has no authorization"),
                Some(e) => {
                    let mut lits = Vec::new();
                    all_literals(e, &mut lits);
                    if lits.iter().any(|l| l.eq_ignore_ascii_case("NONE")) {
                        report(
                            "api-gateway",
                            "authorization can be \"NONE\" (every method must authenticate)",
                        );
                    }
                }
            },
            _ => {}
        }
    }
}
