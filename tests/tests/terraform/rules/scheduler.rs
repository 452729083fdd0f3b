//! Rule `scheduler`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

const SCHEDULE: &str = r#"
resource "aws_sqs_queue" "dlq" {
  sqs_managed_sse_enabled = true
  name = "dlq"
}

resource "aws_scheduler_schedule" "s" {
  name                = "s"
  schedule_expression = "rate(5 minutes)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:aws:lambda:eu-west-1:111122223333:function:f"
    role_arn = "arn:aws:iam::111122223333:role/r"

    retry_policy {
      maximum_retry_attempts = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}
"#;

#[test]
fn schedules_need_retry_policy_and_dead_letter_config() {
    let no_retry = SCHEDULE.replace(
        "    retry_policy {\n      maximum_retry_attempts = 3\n    }\n",
        "",
    );
    let vs = run(&[("m/main.tf", &no_retry)]);
    assert_reports(&vs, "scheduler", "aws_scheduler_schedule.s", "retry_policy");
    assert_eq!(vs.len(), 1, "{}", show(&vs));

    let no_dlq = SCHEDULE.replace(
        "    dead_letter_config {\n      arn = aws_sqs_queue.dlq.arn\n    }\n",
        "",
    );
    let vs = run(&[("m/main.tf", &no_dlq)]);
    assert_reports(
        &vs,
        "scheduler",
        "aws_scheduler_schedule.s",
        "dead_letter_config",
    );
    // The queue is now unused, which is fine; only the schedule is reported.
    assert_eq!(vs.len(), 1, "{}", show(&vs));
    assert_clean(&[("m/main.tf", SCHEDULE)]);
}
