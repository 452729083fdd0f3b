//! Rule `event-target`: every `aws_cloudwatch_event_target` has static
//! `retry_policy` and `dead_letter_config` blocks.

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;

pub fn check_event_targets(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        if t != "aws_cloudwatch_event_target" {
            continue;
        }
        for block in ["retry_policy", "dead_letter_config"] {
            if !has_block(&item.block.body, block) {
                out.push(Violation {
                    rule: "event-target",
                    file: item.file.clone(),
                    address: resource_address(t, n),
                    message: format!("has no {block} block"),
                });
            }
        }
    }
}
