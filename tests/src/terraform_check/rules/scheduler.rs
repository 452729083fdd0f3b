//! Rule `scheduler`: every `aws_scheduler_schedule` has a `target` with
//! `retry_policy` and `dead_letter_config` blocks.

use crate::terraform_check::model::*;
use crate::terraform_check::Violation;

pub fn check_schedules(m: &Module, out: &mut Vec<Violation>) {
    for ((t, n), item) in &m.resources {
        if t != "aws_scheduler_schedule" {
            continue;
        }
        let mut report = |message: String| {
            out.push(Violation {
                rule: "scheduler",
                file: item.file.clone(),
                address: resource_address(t, n),
                message,
            })
        };
        let targets: Vec<_> = blocks(&item.block.body, "target").collect();
        if targets.is_empty() {
            report("has no target block".into());
        }
        for target in targets {
            for block in ["retry_policy", "dead_letter_config"] {
                if !has_block(&target.body, block) {
                    report(format!("its target has no {block} block"));
                }
            }
        }
    }
}
